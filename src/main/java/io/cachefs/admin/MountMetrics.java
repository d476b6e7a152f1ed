package io.cachefs.admin;

/**
 * A snapshot of one mount's counters, as the admin endpoint reports them. Counters are monotonic
 * totals since start; gauges are current values.
 *
 * @param readBytesMemory bytes returned to readers from this instance's memory (counter)
 * @param readBytesPeer bytes returned to readers that came from a peer's memory (counter)
 * @param readBytesSource bytes returned to readers that came from the source (counter)
 * @param sourceReadBytes bytes read from the source, including readahead nobody asked for yet
 *     (counter): the traffic the cache did not save
 * @param cacheBytes memory held by cached blocks (gauge)
 * @param capacityBytes the configured bound on {@code cacheBytes} (gauge)
 * @param evictions blocks evicted to make room (counter)
 * @param blocks blocks present in the cache (gauge)
 * @param passthroughOpens opens served by FUSE passthrough from a fully cached file (counter)
 * @param uncachedReadBytes bytes loaded outside the capacity because pinned blocks left no room
 *     (counter); non-zero means the capacity is too small
 * @param hits block lookups that found their block in memory (counter)
 * @param misses block lookups that had to load or wait for a load (counter)
 * @param filesCached file versions with at least one block in memory (gauge)
 * @param loading how the source is read now: opens, measured rate, streams, bytes in flight
 * @param peer the peer group's counters and members, {@link PeerMetrics#NONE} without a group
 * @param faults failures, answers from memory while the source is down, and the FUSE workers
 */
public record MountMetrics(
        long readBytesMemory,
        long readBytesPeer,
        long readBytesSource,
        long sourceReadBytes,
        long cacheBytes,
        long capacityBytes,
        long evictions,
        long blocks,
        long passthroughOpens,
        long uncachedReadBytes,
        long hits,
        long misses,
        int filesCached,
        SourceMetrics loading,
        PeerMetrics peer,
        FaultMetrics faults) {

    /** A mount nothing has been read from yet. */
    static final MountMetrics NONE = new MountMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, SourceMetrics.NONE,
            PeerMetrics.NONE, FaultMetrics.NONE);

    /** Hits over all lookups since start; 0 before the first lookup rather than NaN. */
    public double hitRatio() {
        long lookups = hits + misses;
        return lookups == 0 ? 0 : (double) hits / lookups;
    }
}
