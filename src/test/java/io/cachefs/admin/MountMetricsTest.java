package io.cachefs.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cachefs.cache.CacheCounter;
import io.cachefs.cache.CacheStats;
import io.cachefs.stats.Counts;
import org.junit.jupiter.api.Test;

class MountMetricsTest {

    @Test
    void hitRatioIsZeroBeforeAnyLookup() {
        assertEquals(0.0, MountMetrics.NONE.hitRatio());
    }

    @Test
    void hitRatioIsHitsOverAllLookups() {
        long[] counts = new long[CacheCounter.values().length];
        counts[CacheCounter.HITS.ordinal()] = 3;
        counts[CacheCounter.MISSES.ordinal()] = 1;
        var metrics = new MountMetrics(new CacheStats(0, 0, 0, 0, 0, new Counts<>(CacheCounter.class, counts)),
                MountMetrics.NONE.loading(), MountMetrics.NONE.reads(), MountMetrics.NONE.source(),
                MountMetrics.NONE.health(), PeerMetrics.NONE);

        assertEquals(0.75, metrics.hitRatio());
    }
}
