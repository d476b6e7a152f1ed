package io.cachefs.admin;

import io.cachefs.cache.CacheCounter;
import io.cachefs.cache.CacheStats;
import io.cachefs.cache.LoadStats;
import io.cachefs.fs.ReadCounter;
import io.cachefs.source.SourceCounter;
import io.cachefs.stats.Counts;

/**
 * A snapshot of one mount, as the admin endpoint reports it: each package's own snapshot, passed
 * through as it is. Counters are the packages' enums ({@link CacheCounter}, {@link ReadCounter},
 * {@link SourceCounter}), exported by {@link ExportedCounters} by iterating them; the accessors
 * below are the few values {@code /status} shows by name.
 *
 * @param cache what the block cache holds and counted
 * @param loading how the source is read now, and what the stream adaptation learned
 * @param reads what the filesystem served, by tier, and its opens and failed reads
 * @param source what reads cost the source
 * @param health the source's reachability and the FUSE workers
 * @param peer the peer group's counters and members, {@link PeerMetrics#NONE} without a group
 */
public record MountMetrics(
        CacheStats cache,
        LoadStats loading,
        Counts<ReadCounter> reads,
        Counts<SourceCounter> source,
        Health health,
        PeerMetrics peer) {

    /** A mount nothing has been read from yet. */
    static final MountMetrics NONE = new MountMetrics(
            new CacheStats(0, 0, 0, 0, 0, Counts.zero(CacheCounter.class)), new LoadStats(0, 0, 1, false, 0),
            Counts.zero(ReadCounter.class), Counts.zero(SourceCounter.class), Health.NONE, PeerMetrics.NONE);

    /**
     * What is neither a cache, read nor source counter: the metadata answered from memory, the
     * source's reachability and the FUSE workers (which grow while requests wait).
     *
     * @param staleMetadataAnswers lookups and listings answered as last seen because the source did not answer
     * @param unansweredSourceCalls stats and listings the source did not answer in time, or failed
     * @param sourceReachable false while the source does not answer
     * @param workers FUSE workers running now
     * @param workersPeak the most FUSE workers that ran at once
     * @param workersDied FUSE workers stopped by an unexpected error (each is a bug, and logged)
     */
    public record Health(long staleMetadataAnswers, long unansweredSourceCalls, boolean sourceReachable, int workers,
                         int workersPeak, long workersDied) {

        static final Health NONE = new Health(0, 0, true, 0, 0, 0);
    }

    /** Hits over all lookups since start; 0 before the first lookup rather than NaN. */
    public double hitRatio() {
        long lookups = cache.hits() + cache.misses();
        return lookups == 0 ? 0 : (double) cache.hits() / lookups;
    }

    public long readBytesMemory() {
        return reads.get(ReadCounter.MEMORY_BYTES);
    }

    public long readBytesPeer() {
        return reads.get(ReadCounter.PEER_BYTES);
    }

    public long readBytesSource() {
        return reads.get(ReadCounter.SOURCE_BYTES);
    }

    public long sourceReadBytes() {
        return source.get(SourceCounter.READ_BYTES);
    }

    public long passthroughOpens() {
        return reads.get(ReadCounter.PASSTHROUGH_OPENS);
    }
}
