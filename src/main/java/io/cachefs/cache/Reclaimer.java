package io.cachefs.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Gives memory back: decides under the cache lock what is to be freed (evicted and dropped
 * blocks, failed loads, versions nobody needs) and frees it outside the lock in
 * {@link #reclaim}, since punching holes and closing files are system calls and the lock is also
 * what every cache hit takes.
 *
 * <p>The capacity's bound holds for pages really held: a block's room goes back to the
 * {@link CapacityLedger} only after its hole is punched, and a block being punched stays in its
 * table as RELEASING meanwhile, so no new load writes into the range before the punch is done.
 * In a store directory, the block's index slot is cleared before the punch, and a dropped
 * version's files are deleted before anything else, so the index never claims a range that is
 * being punched or written again, nor a version the source replaced.
 * Methods but {@link #reclaim} expect the cache lock held.
 */
final class Reclaimer {

    private final ReentrantLock lock;
    private final CapacityLedger ledger;
    private final CapacityLedger overflow;
    private final CachedVersions versions;
    private final InFlightWork work;
    /** Ends the load of a version that closes (its lingering streams stop): LoadStreams' job. */
    private final Consumer<FileLoad> detachLoad;
    /** Told when overflow room was given back: a load waiting for it may go on. */
    private final Runnable overflowFreed;

    Reclaimer(ReentrantLock lock, CapacityLedger ledger, CapacityLedger overflow, CachedVersions versions,
              InFlightWork work, Consumer<FileLoad> detachLoad, Runnable overflowFreed) {
        this.lock = lock;
        this.ledger = ledger;
        this.overflow = overflow;
        this.versions = versions;
        this.work = work;
        this.detachLoad = detachLoad;
        this.overflowFreed = overflowFreed;
    }

    /** A new reclamation; counted as work in flight until {@link #reclaim} ends it. */
    Reclamation start() {
        work.begin();
        return new Reclamation();
    }

    Reclamation orStart(Reclamation reclamation) {
        return reclamation != null ? reclamation : start();
    }

    /**
     * Reserves {@code bytes} for {@code block} in its ledger (the capacity, or the overflow for an
     * uncached block), which must allow them, evicting least recently used blocks of that ledger
     * as needed. Returns {@code reclamation} with the victims added, to punch before the
     * reserved bytes are written (a new one if there are victims and it was null).
     */
    Reclamation reserve(Block block, Reclamation reclamation) {
        long[] surplus = new long[1];
        List<Block> victims = ledgerOf(block).reserve(block.memoryBytes, surplus);
        if (victims.isEmpty()) {
            return reclamation;
        }
        reclamation = orStart(reclamation);
        for (Block victim : victims) {
            unpresent(victim, reclamation);
        }
        reclamation.freedByHoles(block, surplus[0]);
        return reclamation;
    }

    /** Gives back an unpinned present block of a dropped version. */
    void drop(Block block, Reclamation reclamation) {
        ledgerOf(block).unevictable(block);
        unpresent(block, reclamation);
        reclamation.freedByHoles(block, block.memoryBytes);
    }

    /** Gives back the room of a block whose load failed or was abandoned. */
    void release(Block block, Reclamation reclamation) {
        block.state = Block.State.RELEASING;
        // the loader may have written part of the range: punch it before the room is given back
        // or the block forgotten
        reclamation.holes.add(block);
        reclamation.freedByHoles(block, block.memoryBytes);
    }

    private void unpresent(Block block, Reclamation reclamation) {
        block.state = Block.State.RELEASING;
        if (block.cached) {
            versions.presentBlocks--;
            block.version.presentBlocks--;
        }
        reclamation.holes.add(block);
    }

    private CapacityLedger ledgerOf(Block block) {
        return block.cached ? ledger : overflow;
    }

    /** Detaches {@code version} and schedules its file's closing if nothing needs it. */
    void closeIfUnused(CachedVersion version, Reclamation reclamation) {
        if (!version.unused() || version.closing) {
            return;
        }
        version.closing = true;
        versions.forget(version);
        if (version.load != null) {
            detachLoad.accept(version.load);
        }
        reclamation.files.add(version);
    }

    /** Gives back the memory gathered in {@code reclamation}; outside the lock. */
    void reclaim(Reclamation reclamation) {
        if (reclamation == null) {
            return;
        }
        try {
            reclamation.unlinks.forEach(CachedVersion::unlinkStore);
            for (Block block : reclamation.holes) {
                MemoryFile memory = block.version.memoryIfCreated();
                if (memory != null) {
                    // the index forgets the block first, so it never claims a punched range
                    memory.unrecord(block.index);
                    memory.punch(block.offset, block.memoryBytes);
                }
            }
            if (!reclamation.holes.isEmpty()) {
                lock.lock();
                try {
                    ledger.freed(reclamation.bytesFreedByHoles);
                    if (reclamation.overflowFreedByHoles > 0) {
                        overflow.freed(reclamation.overflowFreedByHoles);
                        overflowFreed.run();
                    }
                    for (Block block : reclamation.holes) {
                        block.version.blocks.remove(block);
                        block.settle(null);
                        closeIfUnused(block.version, reclamation);
                    }
                } finally {
                    lock.unlock();
                }
            }
            reclamation.files.forEach(CachedVersion::close);
        } finally {
            lock.lock();
            try {
                work.end();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Memory to give back, gathered under the cache lock and given back outside it by
     * {@link #reclaim}: punching holes, unmapping and closing files are system calls, and the
     * lock is also what cache hits take.
     */
    static final class Reclamation {

        /** Cached blocks in state RELEASING whose ranges are to be punched. */
        final List<Block> holes = new ArrayList<>(4);
        /** Versions that became unused and detached: their memory files are to be closed. */
        final List<CachedVersion> files = new ArrayList<>(1);
        /** Versions dropped from the cache: their files are to leave the store directory. */
        final List<CachedVersion> unlinks = new ArrayList<>(0);
        /**
         * Used bytes to give back once the holes are punched, not before: the bound on memory must
         * hold for the pages really held, and those go only with the punch. Of the capacity, and of
         * the overflow for uncached blocks.
         */
        long bytesFreedByHoles;
        long overflowFreedByHoles;

        void freedByHoles(Block block, long bytes) {
            if (block.cached) {
                bytesFreedByHoles += bytes;
            } else {
                overflowFreedByHoles += bytes;
            }
        }
    }
}
