package io.cachefs.cache;

/** The block cache's running counts, reported in {@link CacheStats}. Guarded by the cache lock. */
final class CacheCounters {
    long hits;
    long misses;
    long loadedBytes;
    long uncachedBytes;
    long failedLoads;
}
