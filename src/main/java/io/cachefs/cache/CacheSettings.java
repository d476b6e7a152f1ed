package io.cachefs.cache;

import static io.cachefs.cache.BlockLayout.PAGE_SIZE;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How big the block cache is, where its memory lives and how long it waits for the source.
 *
 * @param capacityBytes hard bound on the bytes of cached blocks
 * @param blockSize bytes per block: a power of two and a multiple of the 4 KiB page, so block
 *     boundaries are page boundaries and an evicted block's pages can be handed back whole
 * @param storeDir a tmpfs directory to keep the memory-backed files in, or {@code null} for
 *     anonymous memfds; a directory makes the cache visible with {@code ls} and {@code du}
 * @param sourceTimeout how long a reader waits without its file's load making progress, and
 *     how long one block's load may take before it is abandoned
 */
public record CacheSettings(long capacityBytes, int blockSize, Path storeDir, Duration sourceTimeout) {

    /**
     * 4 MiB: large enough that a multi-gigabyte model file is a few thousand blocks (small heap
     * and LRU, few source requests), small enough that one miss does not wait long.
     */
    public static final int DEFAULT_BLOCK_SIZE = 4 << 20;

    /** Long enough for a slow object store's worst GET, short enough that a hung one does not look like a hang. */
    public static final Duration DEFAULT_SOURCE_TIMEOUT = Duration.ofSeconds(30);

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
        if (sourceTimeout == null || sourceTimeout.isNegative() || sourceTimeout.isZero()) {
            throw new IllegalArgumentException("the source timeout must be positive, got " + sourceTimeout);
        }
        if (storeDir != null && !storeDir.isAbsolute()) {
            throw new IllegalArgumentException("the cache store directory must be an absolute"
                    + " path (a tmpfs directory such as /dev/shm/cachefs), got " + storeDir);
        }
    }

    /** Settings with the default block size, memfd storage and the default source timeout. */
    public static CacheSettings withCapacity(long capacityBytes) {
        return new CacheSettings(capacityBytes, DEFAULT_BLOCK_SIZE, null, DEFAULT_SOURCE_TIMEOUT);
    }

    /**
     * Room outside the capacity for blocks readers need when pinned blocks (files open in
     * passthrough) fill the capacity: a quarter of the capacity, at most 64 MiB, at least two
     * blocks (one read spans two). Such blocks are kept there, least recently used first out, so
     * that a reader's next small reads of a block do not load it again.
     */
    public long overflowBytes() {
        return Math.max(2L * blockSize, Math.min(MAX_OVERFLOW_BYTES, capacityBytes / 4 / blockSize * blockSize));
    }

    /** See {@link #overflowBytes}: a bound on what memory a pinned-full cache adds to its capacity. */
    static final long MAX_OVERFLOW_BYTES = 64L << 20;

    public BlockLayout layout() {
        return new BlockLayout(blockSize);
    }
}
