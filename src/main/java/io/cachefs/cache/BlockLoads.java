package io.cachefs.cache;

import io.cachefs.cache.FileLoad.LoadStream;
import io.cachefs.cache.Reclaimer.Reclamation;
import io.cachefs.stats.Counters;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The cache's side of a load stream's work, which {@link LoadStreams} drives: claim the blocks
 * of a read (room reserved, LRU victims chosen), read them into the memory file outside the
 * lock, then publish them or give their room back.
 *
 * <p>Singleflight: a block has one entry in its version's table. A claim moves it to LOADING,
 * which keeps every other stream out; readers that find it QUEUED or LOADING pin it and wait on
 * it, and publishing leaves those pins in place, so that no waiter can lose the block to
 * eviction between the load and its read. A failed load wakes its waiters with the failure and
 * is then forgotten, so the next acquire tries again.
 *
 * <p>Room: a cached block's pages are reserved when it is claimed, evicting as needed, and the
 * victims are punched before the load writes. When pinned and loading blocks leave no room,
 * loading ahead stops, and a block a reader waits for is loaded outside the capacity, on the
 * overflow ledger (a small budget of its own, least recently used first out); if that is
 * pinned full too, the block waits for overflow room (its load is starved until a pin goes).
 * Methods but {@link #read} expect the cache lock held.
 */
final class BlockLoads {

    /**
     * The most a stream reads in one go: 16 MiB, four default blocks. Large reads are what a FUSE
     * object mount serves best (16 MiB reads ran s3fs at 0.95x its straight speed where 4 MiB
     * ones ran at 0.80x); more would only delay the first waiter of the run.
     */
    static final long RUN_BYTES = 16L << 20;

    /** Consecutive blocks claimed to be read in one go, the victims whose room they take, and where each block came from. */
    record Claim(List<Block> blocks, Reclamation victims, BlockOrigin[] origins) {
        /** The span of the memory file the blocks take, from the first block's offset. */
        long bytesInMemory() {
            Block first = blocks.getFirst();
            Block last = blocks.getLast();
            return last.offset + last.length - first.offset;
        }
    }

    /**
     * A claim whose victims are punched and whose pages are being populated: {@code dst} is its
     * memory, or {@code failure} why it could not be made ready.
     */
    record Prepared(Claim claim, MemorySegment dst, PagePopulator.Population population, Throwable failure) {
        /** Ends the population, so that the range can be published or given back. */
        void settle() {
            if (population != null) {
                population.finish();
            }
        }
    }

    private final BlockLayout layout;
    private final CapacityLedger ledger;
    private final CapacityLedger overflow;
    private final CachedVersions versions;
    private final Reclaimer reclaimer;
    private final Pins pins;
    private final Counters<CacheCounter> counters;
    private final InFlightWork work;
    private final PagePopulator populator;
    /** Whether the loader may read several blocks in one go (see {@link BlockLoader#loadsRuns}). */
    private final boolean loadsRuns;

    BlockLoads(BlockLayout layout, CapacityLedger ledger, CapacityLedger overflow, CachedVersions versions,
               Reclaimer reclaimer, Pins pins, Counters<CacheCounter> counters, InFlightWork work,
               PagePopulator populator, boolean loadsRuns) {
        this.layout = layout;
        this.ledger = ledger;
        this.overflow = overflow;
        this.versions = versions;
        this.reclaimer = reclaimer;
        this.pins = pins;
        this.counters = counters;
        this.work = work;
        this.populator = populator;
        this.loadsRuns = loadsRuns;
    }

    /** The bytes a stream publishes at once: a run of {@link #RUN_BYTES} if the loader reads runs, else a block. */
    long landingBytes() {
        return loadsRuns ? Math.max(layout.blockSize(), RUN_BYTES) : layout.blockSize();
    }

    /**
     * Whether a stream may claim a run ahead of the one it reads. Only where the loader reads
     * runs (the source): a peer group's loader chooses each block by who holds it, a choice best
     * made at the last moment (three members claiming ahead read a cold file 1.34 times from the
     * source, not once). And only while that leaves room for another run besides, so that claiming
     * ahead never takes the room a reader's block needs, nor meets a full capacity (which stops
     * the load's reading ahead).
     */
    boolean claimsAhead() {
        return loadsRuns && ledger.canReserve(2 * landingBytes());
    }

    /**
     * Claims block {@code index} for {@code stream}, and the blocks after it in the stream's run
     * up to {@link #RUN_BYTES}, to be read in one go; null if the block should be skipped.
     */
    Claim claim(LoadStream stream, long index) {
        Reclamation victims = null;
        Block first = claimOne(stream, index);
        if (first == null) {
            return null;
        }
        work.begin(); // one unit of work per read, however many blocks it takes
        List<Block> blocks = new ArrayList<>(4);
        blocks.add(first);
        victims = reclaimer.reserve(first, null);
        if (first.cached) {
            long bytes = first.length;
            long runBytes = loadsRuns ? RUN_BYTES : 0;
            for (long next = index + 1; bytes < runBytes && stream.load.takeNextOfRun(stream, next); next++) {
                Block block = claimOne(stream, next);
                if (block == null || !block.cached || block.ownerLoad != first.ownerLoad) {
                    if (block != null) {
                        unclaim(stream, block); // read it on its own, next
                    }
                    stream.load.untake(stream, next);
                    break;
                }
                blocks.add(block);
                victims = reclaimer.reserve(block, victims);
                bytes += block.length;
            }
        }
        return new Claim(List.copyOf(blocks), victims, new BlockOrigin[blocks.size()]);
    }

    /**
     * Claims one block (state LOADING; cached if there is room, else on the overflow ledger), or
     * returns null if it is to be skipped.
     */
    private Block claimOne(LoadStream stream, long index) {
        CachedVersion version = stream.load.version;
        Block block = version.blocks.get(index);
        long bytes = BlockLayout.memoryBytes(layout.length(version.file, index));
        boolean room = ledger.canReserve(bytes);
        if (block == null) {
            if (!room) {
                stream.load.dropUndemanded(); // pinned blocks fill the capacity: stop loading ahead
                return null;
            }
            block = versions.addBlock(version, index, Block.State.LOADING);
        } else if (block.state == Block.State.QUEUED) {
            if (!room && block.pins == 0) {
                version.blocks.remove(block); // nobody waits for it any more
                return null;
            }
            if (!room && !overflow.canReserve(bytes)) {
                stream.load.starve(index); // its readers wait for overflow room: a pin has to go first
                return null;
            }
            block.state = Block.State.LOADING;
        } else {
            return null; // present, or someone else's load or release
        }
        block.cached = room;
        stream.current.add(block);
        return block;
    }

    /** Gives back a block just claimed that turned out not to fit the run (it is claimed again next). */
    private void unclaim(LoadStream stream, Block block) {
        stream.current.remove(block);
        if (block.pins > 0 || block.ownerLoad) {
            block.state = Block.State.QUEUED; // its waiters keep waiting
        } else {
            block.version.blocks.remove(block);
        }
        block.cached = true;
    }

    /**
     * Makes a claim's memory ready on {@code stream}'s thread, outside the lock: punches the
     * victims whose room it takes and starts populating its pages ({@code first}: the first of
     * them before returning, as the claim is read next). The returned claim is then {@linkplain
     * #read read}, or {@linkplain Prepared#settle settled} unread.
     */
    Prepared prepare(Claim claim, boolean first) {
        try {
            reclaimer.reclaim(claim.victims());
            Block start = claim.blocks().getFirst();
            MemorySegment dst = start.version.memory().slice(start.offset, claim.bytesInMemory());
            return new Prepared(claim, dst, first ? populator.start(dst) : populator.later(dst), null);
        } catch (Throwable t) {
            return new Prepared(claim, null, null, t);
        }
    }

    /**
     * Reads a prepared claim on {@code stream}'s thread, outside the lock, into the memory file.
     * Returns the failure, or null.
     */
    Throwable read(LoadStream stream, BlockReader reader, Prepared prepared) {
        if (prepared.failure != null) {
            return prepared.failure;
        }
        Claim claim = prepared.claim;
        List<Block> blocks = claim.blocks();
        Block first = blocks.getFirst();
        MemorySegment dst = prepared.dst;
        try {
            MemoryFile memory = first.version.memory();
            try {
                stream.busySince = Math.max(1, System.nanoTime());
                reader.loadRun(new BlockKey(first.version.file, first.index, layout.blockSize()), blocks.size(), dst,
                        first.ownerLoad, claim.origins());
            } finally {
                prepared.settle();
            }
            for (Block block : blocks) {
                block.bytes = dst.asSlice(block.offset - first.offset, block.length).asReadOnly();
                if (block.cached && memory.persistent()) {
                    // the bytes are complete: only now may the store's index claim them
                    int crc = BlockLease.crc32cOf(block.bytes);
                    block.crc32c = Integer.toUnsignedLong(crc);
                    memory.record(block.index, crc);
                }
            }
            return null;
        } catch (Throwable t) {
            return t;
        } finally {
            stream.busySince = 0;
        }
    }

    /** Publishes a claim read in full: its waiters wake. Returns memory to give back, or null. */
    Reclamation publish(Claim claim) {
        Reclamation reclamation = null;
        List<Block> blocks = claim.blocks();
        for (int i = 0; i < blocks.size(); i++) {
            Block block = blocks.get(i);
            BlockOrigin origin = claim.origins()[i];
            block.origin = origin == null ? BlockOrigin.SOURCE : origin;
            block.undelivered = block.length;
            block.state = Block.State.PRESENT;
            if (block.cached) {
                versions.presentBlocks++;
                block.version.presentBlocks++;
                counters.add(CacheCounter.LOADED_BYTES, block.length);
            } else {
                counters.add(CacheCounter.UNCACHED_BYTES, block.length);
            }
            block.settle(null);
            if (block.pins == 0) {
                reclamation = pins.settleUnpinned(block, reclamation);
            }
        }
        return reclamation;
    }

    /** A claim's read failed: its waiters get {@code failure}, its room goes back. */
    Reclamation fail(Claim claim, Throwable failure) {
        Reclamation reclamation = reclaimer.start();
        for (Block block : claim.blocks()) {
            counters.increment(CacheCounter.FAILED_LOADS);
            block.settle(failure);
            block.pins = 0; // the waiters throw and do not unpin
            reclaimer.release(block, reclamation);
        }
        return reclamation;
    }

    /**
     * A claim the watchdog abandoned is back: its waiters failed long ago; now that the stream has
     * returned, the range can be punched and the room given back.
     */
    Reclamation releaseAbandoned(Claim claim) {
        Reclamation reclamation = reclaimer.start();
        for (Block block : claim.blocks()) {
            reclaimer.release(block, reclamation);
        }
        return reclamation;
    }
}
