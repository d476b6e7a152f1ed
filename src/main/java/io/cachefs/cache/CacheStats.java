package io.cachefs.cache;

/**
 * A consistent snapshot of the block cache's counters. Counts since start are cumulative.
 *
 * @param capacityBytes the configured hard bound on {@code usedBytes}
 * @param usedBytes memory of cached blocks held or reserved for blocks being loaded, each block
 *     counted by the whole pages it takes: a short last block of a file counts its length
 *     rounded up to 4 KiB, not a full block
 * @param blocks blocks present in the cache
 * @param evictions blocks evicted to make room (drops of changed files are not evictions)
 * @param hits acquires that found their block present
 * @param misses acquires that had to load their block or wait for a load in flight
 * @param loadedBytes bytes loaded into the cache since start
 * @param uncachedBytes bytes loaded into temporary buffers outside the capacity since start,
 *     because pinned blocks left no room; non-zero means the capacity is too small for the
 *     number of blocks read or files open in passthrough at once
 * @param failedLoads loads that failed (the block was not cached)
 * @param filesCached file versions with at least one block present
 * @param fullyCachedFiles file versions with every block present (passthrough candidates)
 */
public record CacheStats(
        long capacityBytes,
        long usedBytes,
        long blocks,
        long evictions,
        long hits,
        long misses,
        long loadedBytes,
        long uncachedBytes,
        long failedLoads,
        int filesCached,
        int fullyCachedFiles) {}
