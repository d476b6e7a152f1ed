package io.cachefs.cache;

import java.lang.foreign.MemorySegment;

/**
 * A pinned block: until closed, the block is neither evicted nor its memory punched, so its
 * bytes stay valid. Close it as soon as the bytes are copied out (or written to a socket); an
 * open lease holds capacity that nothing else can use.
 */
public interface BlockLease extends AutoCloseable {

    /** Read-only view of the block's valid bytes; do not use it after {@link #close()}. */
    MemorySegment bytes();

    /**
     * True if the block was in memory when acquired; false if this acquire loaded it or waited
     * for a load in flight (the bytes came from the loader: a peer or the source).
     */
    boolean hit();

    /** Unpins the block; closing twice is harmless. */
    @Override
    void close();
}
