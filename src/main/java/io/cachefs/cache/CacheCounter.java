package io.cachefs.cache;

/** What the block cache counts, since start; {@link CacheStats#counts()} holds the totals. */
public enum CacheCounter {
    /** Acquires that found their block present. */
    HITS,
    /** Acquires that had to load their block or wait for a load in flight. */
    MISSES,
    /** Blocks evicted from the capacity to make room (drops of changed files are not evictions). */
    EVICTIONS,
    /** Bytes loaded into the cache. */
    LOADED_BYTES,
    /**
     * Bytes loaded outside the capacity because pinned blocks left no room; non-zero means the
     * capacity is too small for the blocks read or files open in passthrough at once.
     */
    UNCACHED_BYTES,
    /** Loads that failed (the block was not cached). */
    FAILED_LOADS,
    /** Block loads given up on because the source took longer than the source timeout. */
    ABANDONED_LOADS
}
