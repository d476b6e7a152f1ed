package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Where the bytes of a missing block come from: the source, or later a peer in front of it.
 *
 * <p>Called without any cache lock held, from a prefetch loader thread or from the thread of an
 * {@link BlockCache#acquire acquire} that missed; it may block for seconds. The cache calls it
 * at most once at a time per block (singleflight).
 */
@FunctionalInterface
public interface BlockLoader {

    /**
     * Fills {@code dst} completely with the bytes of {@code file} starting at {@code offset}.
     *
     * @param dst exactly as long as the block's valid length; usually a slice of the
     *     memory-backed file itself, so bytes written here are already cached (no copy)
     * @return where the bytes came from, for the read-bytes-by-tier count
     * @throws IOException if the bytes cannot be had, e.g. the source file changed; the block is
     *     then not cached and the next acquire tries again
     */
    BlockOrigin load(FileVersion file, long offset, MemorySegment dst) throws IOException;
}
