package io.cachefs.cache;

import io.cachefs.cache.Block.State;
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
    private final LoadStreams streams;

    CacheInvariants(CacheSettings settings, CachedVersions versions, CapacityLedger ledger, LoadStreams streams) {
        this.settings = settings;
        this.versions = versions;
        this.ledger = ledger;
        this.streams = streams;
    }

    /**
     * @param quiet no load or reclamation in flight: the exact checks hold only then
     * @throws IllegalStateException naming the first broken invariant
     */
    void verify(boolean quiet) throws IOException {
        long used = ledger.usedBytes();
        require(used >= 0 && used <= settings.capacityBytes(), "used bytes " + used + " outside [0, capacity]");
        if (!quiet) {
            return;
        }
        long reserved = 0;
        long present = 0;
        long allocated = 0;
        int evictable = 0;
        for (CachedVersion version : versions.all()) {
            require(!version.unused() && !version.closing, "unused version kept: " + version.file);
            require(version.detached == versions.isDetachedInUse(version),
                    "detached flag disagrees with the detached set: " + version.file);
            require(version.load == null || streams.loads.contains(version.load), "load not tracked: " + version.file);
            List<Block> blocks = new ArrayList<>();
            version.blocks.forEach(blocks::add);
            require(blocks.size() == version.blocks.size(), "table size of " + version.file);
            long versionPresent = 0;
            long versionBytes = 0;
            for (Block block : blocks) {
                require(version.blocks.get(block.index) == block, "unreachable " + block);
                require(block.state == State.QUEUED || block.state == State.PRESENT,
                        "block in flight in a quiet cache: " + block);
                require(block.cached || block.pins > 0, "unpinned uncached block " + block);
                boolean canEvict = block.state == State.PRESENT && block.cached && block.pins == 0;
                require(block.inAccessOrder == canEvict, "LRU membership of " + block);
                require(!(canEvict && version.detached), "dropped block kept: " + block);
                if (block.state == State.PRESENT && block.cached) {
                    versionBytes += block.memoryBytes;
                    versionPresent++;
                }
                evictable += block.inAccessOrder ? 1 : 0;
            }
            require(version.presentBlocks == versionPresent, "present count of " + version.file);
            present += versionPresent;
            reserved += versionBytes;
            MemoryFile memory = version.memoryIfCreated();
            if (memory != null) {
                allocated += memory.allocatedBytes();
                require(memory.allocatedBytes() <= versionBytes, "memory file of " + version.file + " holds "
                        + memory.allocatedBytes() + " bytes but its blocks only " + versionBytes + ": " + blocks);
            }
        }
        require(used == reserved, "used bytes " + used + " but blocks hold " + reserved);
        require(versions.presentBlocks == present, "present blocks " + versions.presentBlocks + " but " + present);
        require(ledger.evictableBlocks() == evictable, "LRU list size " + ledger.evictableBlocks());
        require(allocated <= used, "memory files hold " + allocated + " bytes but blocks only " + used);
        require(streams.bytesInFlight() == 0, "bytes in flight " + streams.bytesInFlight() + " with no load in flight");
    }

    private static void require(boolean invariant, String broken) {
        if (!invariant) {
            throw new IllegalStateException("block cache invariant broken: " + broken);
        }
    }
}
