package io.cachefs.cache;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * One stream's way of loading blocks of one file version (see {@link BlockLoader}). Used by one
 * thread; called without any cache lock held, and may block for as long as the source takes:
 * the cache abandons a load that takes longer than its source timeout.
 */
public interface BlockReader extends AutoCloseable {

    /**
     * Fills {@code dst} completely with the bytes of {@code block}.
     *
     * @param dst exactly {@link BlockKey#length()} long; usually a slice of the memory-backed
     *     file itself, so bytes written here are already cached (no copy)
     * @param ownerLoad true when a peer asked this instance to load the block as the group's
     *     owner: the reader must then not forward the load to another peer, so that two members
     *     whose views of the group disagree cannot pass a load back and forth
     * @return where the bytes came from, for the read-bytes-by-tier count
     * @throws IOException if the bytes cannot be had, e.g. the source file changed; the block is
     *     then not cached and the next acquire tries again
     */
    BlockOrigin load(BlockKey block, MemorySegment dst, boolean ownerLoad) throws IOException;

    /**
     * Fills {@code dst} with {@code count} consecutive blocks from {@code first}, as they lie in
     * the file, and says in {@code origins} where each came from. A stream reads a run of blocks
     * in one go where it can: a source serves one large in-order read faster than several small
     * ones (on a FUSE object mount, markedly). This default loads them one by one.
     *
     * @param dst exactly as long as the blocks together
     */
    default void loadRun(BlockKey first, int count, MemorySegment dst, boolean ownerLoad, BlockOrigin[] origins)
            throws IOException {
        long at = 0;
        for (int i = 0; i < count; i++) {
            BlockKey block = new BlockKey(first.file(), first.index() + i, first.blockSize());
            origins[i] = load(block, dst.asSlice(at, block.length()), ownerLoad);
            at += block.length();
        }
    }

    /** Releases what the reader holds (a source handle); never throws. */
    @Override
    void close();
}
