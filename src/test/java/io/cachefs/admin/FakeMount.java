package io.cachefs.admin;

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
     * Counters {@code base + 1} to {@code base + 13} in declaration order, then the peer
     * counters from {@code base + 20}: every field differs, so a field wired to the wrong series
     * shows up.
     */
    static MountMetrics numbered(long base) {
        java.util.Map<String, Long> requests = new java.util.HashMap<>();
        for (int i = 0; i < PeerMetrics.RESULTS.size(); i++) {
            requests.put(PeerMetrics.RESULTS.get(i), base + 20 + i);
        }
        PeerMetrics peer = new PeerMetrics(requests, base + 40, java.util.List.of(
                new PeerMetrics.Member("127.0.0.1:7070", true, true, 0),
                new PeerMetrics.Member("127.0.0.2:7070", false, false, 3, base + 50, base + 51, base + 52)),
                java.util.Map.of("connection_rejected", base + 60));
        return new MountMetrics(base + 1, base + 2, base + 3, base + 4, base + 5, base + 6,
                base + 7, base + 8, base + 9, base + 10, base + 11, base + 12, (int) base + 13,
                new SourceMetrics(base + 14, base + 15, 2, base + 16, 3, true, base + 17), peer,
                new FaultMetrics(base + 50, base + 51, base + 52, base + 53, true, 9, 11, base + 54));
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
