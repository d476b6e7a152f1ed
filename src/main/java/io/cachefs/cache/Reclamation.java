package io.cachefs.cache;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * Memory to give back, gathered under the cache lock and given back outside it by
 * {@link BlockCache}: punching holes, unmapping and closing files and freeing buffers are
 * system calls, and the lock is also what cache hits take.
 */
final class Reclamation {

    /** Cached blocks in state RELEASING whose ranges are to be punched. */
    final List<Block> holes = new ArrayList<>(4);
    /** Versions that became unused and detached: their memory files are to be closed. */
    final List<CachedVersion> files = new ArrayList<>(1);
    /** Temporary buffers of uncached blocks that nobody pins any more. */
    final List<Arena> buffers = new ArrayList<>(1);
    /**
     * Used bytes to give back once the holes are punched, not before: the bound on memory must
     * hold for the pages really held, and those go only with the punch.
     */
    long bytesFreedByHoles;
}
