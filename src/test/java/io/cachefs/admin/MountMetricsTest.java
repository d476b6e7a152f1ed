package io.cachefs.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MountMetricsTest {

    @Test
    void hitRatioIsZeroBeforeAnyLookup() {
        assertEquals(0.0, MountMetrics.NONE.hitRatio());
    }

    @Test
    void hitRatioIsHitsOverAllLookups() {
        var metrics = new MountMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, SourceMetrics.NONE, PeerMetrics.NONE,
                FaultMetrics.NONE);

        assertEquals(0.75, metrics.hitRatio());
    }
}
