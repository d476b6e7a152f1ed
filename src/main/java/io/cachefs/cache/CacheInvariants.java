package io.cachefs.cache;

import io.cachefs.cache.Block.State;
import io.cachefs.cache.FileLoad.LoadStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The block cache's bookkeeping checked against itself and against the pages the memory files
 * really hold, for tests (Caffeine checks its invariants after every test the same way). Under
 * the cache lock.
 */
final class CacheInvariants {

    private final CacheSettings settings;
    private final CachedVersions versions;
    private final CapacityLedger ledger;
    private final CapacityLedger overflow;
    private final LoadStreams streams;

    CacheInvariants(CacheSettings settings, CachedVersions versions, CapacityLedger ledger, CapacityLedger overflow,
                    LoadStreams streams) {
        this.settings = settings;
        this.versions = versions;
        this.ledger = ledger;
        this.overflow = overflow;
        this.streams = streams;
    }

    /**
     * @param quiet no load or reclamation in flight: the exact checks hold only then
     * @throws IllegalStateException naming the first broken invariant
     */
    void verify(boolean quiet) throws IOException {
        long used = ledger.usedBytes();
        require(used >= 0 && used <= settings.capacityBytes(), "used bytes " + used + " outside [0, capacity]");
        long overflowUsed = overflow.usedBytes();
        require(overflowUsed >= 0 && overflowUsed <= settings.overflowBytes(), "overflow bytes " + overflowUsed
                + " outside [0, " + settings.overflowBytes() + "]");
        if (!quiet) {
            return;
        }
        long reserved = 0;
        long overflowReserved = 0;
        long present = 0;
        long allocated = 0;
        int evictable = 0;
        for (CachedVersion version : versions.all()) {
            // an unused version whose load still has a stream is closed when that stream ends (or used again)
            boolean streaming = version.load != null && !version.load.streams.isEmpty();
            require((!version.unused() || streaming) && !version.closing, "unused version kept: " + version.file);
            require(version.detached == versions.isDetachedInUse(version),
                    "detached flag disagrees with the detached set: " + version.file);
            require(version.load == null || streams.loads.contains(version.load), "load not tracked: " + version.file);
            List<Block> blocks = new ArrayList<>();
            version.blocks.forEach(blocks::add);
            require(blocks.size() == version.blocks.size(), "table size of " + version.file);
            long versionPresent = 0;
            long versionBytes = 0; // cached and overflow: what the memory file may hold
            for (Block block : blocks) {
                require(version.blocks.get(block.index) == block, "unreachable " + block);
                if (!(block.state == State.QUEUED || block.state == State.PRESENT)) {
                    StringBuilder where = new StringBuilder();
                    for (FileLoad load : streams.loads) {
                        for (LoadStream stream : load.streams) {
                            where.append(stream).append(" current=").append(stream.current).append(" stopping=")
                                    .append(stream.stopping).append(" abandoned=").append(stream.abandoned).append("; ");
                        }
                    }
                    require(false, "block in flight in a quiet cache: " + block + " load=" + version.load
                            + " detached=" + version.detached + " streams: " + where);
                }
                boolean canEvict = block.state == State.PRESENT && block.pins == 0;
                require(block.inAccessOrder == canEvict, "LRU membership of " + block);
                require(!(canEvict && version.detached), "dropped block kept: " + block);
                if (block.state == State.PRESENT && block.cached) {
                    reserved += block.memoryBytes;
                    versionPresent++;
                } else if (block.state == State.PRESENT) {
                    overflowReserved += block.memoryBytes;
                }
                versionBytes += block.state == State.PRESENT ? block.memoryBytes : 0;
                evictable += block.inAccessOrder ? 1 : 0;
            }
            require(version.presentBlocks == versionPresent, "present count of " + version.file);
            present += versionPresent;
            MemoryFile memory = version.memoryIfCreated();
            if (memory != null) {
                allocated += memory.allocatedBytes();
                require(memory.allocatedBytes() <= versionBytes, "memory file of " + version.file + " holds "
                        + memory.allocatedBytes() + " bytes but its blocks only " + versionBytes + ": " + blocks);
            }
        }
        require(used == reserved, "used bytes " + used + " but blocks hold " + reserved);
        require(overflowUsed == overflowReserved, "overflow bytes " + overflowUsed + " but uncached blocks hold "
                + overflowReserved);
        require(versions.presentBlocks == present, "present blocks " + versions.presentBlocks + " but " + present);
        require(ledger.evictableBlocks() + overflow.evictableBlocks() == evictable, "LRU list sizes "
                + ledger.evictableBlocks() + " + " + overflow.evictableBlocks() + " but " + evictable + " evictable");
        require(allocated <= used + overflowUsed, "memory files hold " + allocated + " bytes but blocks only "
                + (used + overflowUsed));
        require(streams.bytesInFlight() == 0, "bytes in flight " + streams.bytesInFlight() + " with no load in flight");
    }

    private static void require(boolean invariant, String broken) {
        if (!invariant) {
            throw new IllegalStateException("block cache invariant broken: " + broken);
        }
    }
}
