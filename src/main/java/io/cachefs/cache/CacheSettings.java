package io.cachefs.cache;

import static io.cachefs.cache.BlockLayout.PAGE_SIZE;

import java.nio.file.Path;

/**
 * How big the block cache is and where its memory lives.
 *
 * @param capacityBytes hard bound on the bytes of cached blocks
 * @param blockSize bytes per block: a power of two and a multiple of the 4 KiB page, so block
 *     boundaries are page boundaries and an evicted block's pages can be handed back whole
 * @param storeDir a tmpfs directory to keep the memory-backed files in, or {@code null} for
 *     anonymous memfds; a directory makes the cache visible with {@code ls} and {@code du}
 * @param loaderThreads how many blocks are loaded in the background at a time (prefetch and
 *     readahead); demand loads run in the reading thread and do not count against it
 */
public record CacheSettings(long capacityBytes, int blockSize, Path storeDir, int loaderThreads) {

    /**
     * 4 MiB: large enough that a multi-gigabyte model file is a few thousand blocks (small heap
     * and LRU, few source requests), small enough that one miss does not wait long.
     */
    public static final int DEFAULT_BLOCK_SIZE = 4 << 20;

    /** Parallel range reads are what make an object-storage source fast; 8 saturates most. */
    public static final int DEFAULT_LOADER_THREADS = 8;

    /** Blocks are addressed with int lengths; a gigabyte block would defeat LRU anyway. */
    static final int MAX_BLOCK_SIZE = 1 << 30;

    public CacheSettings {
        if (blockSize < PAGE_SIZE || blockSize > MAX_BLOCK_SIZE
                || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two from "
                    + PAGE_SIZE + " (4K) to " + MAX_BLOCK_SIZE + " (1G) bytes, got " + blockSize
                    + "; the default is " + DEFAULT_BLOCK_SIZE + " (4M)");
        }
        if (capacityBytes < blockSize) {
            throw new IllegalArgumentException("cache capacity (" + capacityBytes
                    + " bytes) must hold at least one block of " + blockSize
                    + " bytes: raise the capacity or lower the block size");
        }
        if (loaderThreads < 1) {
            throw new IllegalArgumentException(
                    "need at least one loader thread, got " + loaderThreads);
        }
        if (storeDir != null && !storeDir.isAbsolute()) {
            throw new IllegalArgumentException("the cache store directory must be an absolute"
                    + " path (a tmpfs directory such as /dev/shm/cachefs), got " + storeDir);
        }
    }

    /** Settings with the default block size, memfd storage and the default loader threads. */
    public static CacheSettings withCapacity(long capacityBytes) {
        return new CacheSettings(capacityBytes, DEFAULT_BLOCK_SIZE, null, DEFAULT_LOADER_THREADS);
    }

    public BlockLayout layout() {
        return new BlockLayout(blockSize);
    }
}
