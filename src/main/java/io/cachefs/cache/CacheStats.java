package io.cachefs.cache;

import io.cachefs.stats.Counts;

/**
 * A consistent snapshot of the block cache: what it holds now, and its counters since start.
 *
 * @param capacityBytes the configured hard bound on {@code usedBytes}
 * @param usedBytes memory of cached blocks held or reserved for blocks being loaded, each block
 *     counted by the whole pages it takes: a short last block of a file counts its length
 *     rounded up to 4 KiB, not a full block
 * @param blocks blocks present in the cache
 * @param filesCached file versions with at least one block present
 * @param fullyCachedFiles file versions with every block present (passthrough candidates)
 * @param counts the counters, taken under the same lock as the rest
 */
public record CacheStats(
        long capacityBytes,
        long usedBytes,
        long blocks,
        int filesCached,
        int fullyCachedFiles,
        Counts<CacheCounter> counts) {

    public long hits() {
        return counts.get(CacheCounter.HITS);
    }

    public long misses() {
        return counts.get(CacheCounter.MISSES);
    }

    public long evictions() {
        return counts.get(CacheCounter.EVICTIONS);
    }

    public long loadedBytes() {
        return counts.get(CacheCounter.LOADED_BYTES);
    }

    public long uncachedBytes() {
        return counts.get(CacheCounter.UNCACHED_BYTES);
    }

    public long failedLoads() {
        return counts.get(CacheCounter.FAILED_LOADS);
    }
}
