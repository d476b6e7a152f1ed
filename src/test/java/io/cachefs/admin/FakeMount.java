package io.cachefs.admin;

import io.cachefs.cache.CacheCounter;
import io.cachefs.cache.CacheStats;
import io.cachefs.cache.LoadStats;
import io.cachefs.fs.ReadCounter;
import io.cachefs.peer.PeerFetch;
import io.cachefs.peer.PeerResults;
import io.cachefs.peer.PortEvent;
import io.cachefs.source.SourceCounter;
import io.cachefs.stats.Counts;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A mount whose counters a test sets, that can be told to fail, and that counts its reads. */
final class FakeMount implements MonitoredMount {

    private final String mountPoint;
    private final String source;
    private final AtomicInteger reads = new AtomicInteger();
    private volatile MountMetrics metrics = MountMetrics.NONE;
    private volatile RuntimeException failure;

    FakeMount(String mountPoint, String source) {
        this.mountPoint = mountPoint;
        this.source = source;
    }

    /**
     * Cache counters from {@code base + 1}, read counters from {@code base + 10}, source counters
     * from {@code base + 20}, the cache's and the loads' gauges from {@code base + 30}, peers from
     * {@code base + 40}, health from {@code base + 60}, peer results from {@code base + 70}, port
     * events from {@code base + 100}: every field differs, so a field wired to the wrong series
     * shows up.
     */
    static MountMetrics numbered(long base) {
        PeerResults results = new PeerResults(numbered(PeerResults.Answer.class, base + 70),
                numbered(PeerFetch.Kind.class, base + 70 + PeerResults.Answer.values().length));
        PeerMetrics peer = new PeerMetrics(results, base + 40, List.of(
                new PeerMetrics.Member("127.0.0.1:7070", true, true, 0),
                new PeerMetrics.Member("127.0.0.2:7070", false, false, 3, base + 50, base + 51, base + 52)),
                numbered(PortEvent.class, base + 100), base + 45);
        CacheStats cache = new CacheStats(base + 30, base + 31, base + 32, (int) base + 33, (int) base + 34,
                numbered(CacheCounter.class, base + 1));
        LoadStats loading = new LoadStats(2, base + 35, 3, true, base + 36);
        return new MountMetrics(cache, loading, numbered(ReadCounter.class, base + 10),
                numbered(SourceCounter.class, base + 20),
                new MountMetrics.Health(base + 60, base + 61, true, 9, 11, base + 62), peer);
    }

    /** {@code first}, {@code first + 1}, ... in the enum's order. */
    private static <E extends Enum<E>> Counts<E> numbered(Class<E> type, long first) {
        long[] values = new long[type.getEnumConstants().length];
        for (int i = 0; i < values.length; i++) {
            values[i] = first + i;
        }
        return new Counts<>(type, values);
    }

    void set(MountMetrics metrics) {
        this.metrics = metrics;
    }

    void failWith(RuntimeException failure) {
        this.failure = failure;
    }

    int reads() {
        return reads.get();
    }

    @Override
    public String mountPoint() {
        return mountPoint;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public MountMetrics metrics() {
        reads.incrementAndGet();
        RuntimeException f = failure;
        if (f != null) {
            throw f;
        }
        return metrics;
    }
}
