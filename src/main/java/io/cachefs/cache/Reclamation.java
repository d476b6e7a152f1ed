package io.cachefs.cache;

import java.util.ArrayList;
import java.util.List;

/**
 * Memory to give back, gathered under the cache lock and given back outside it by
 * the {@link Reclaimer}: punching holes, unmapping and closing files are system calls, and the
 * lock is also what cache hits take.
 */
final class Reclamation {

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
