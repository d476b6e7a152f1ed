package io.cachefs.admin;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;

/** {@code GET /metrics}: the registry in the Prometheus text format, mounts read fresh. */
final class MetricsEndpoint implements Endpoint {

    // The Prometheus text format 0.0.4, which every Prometheus scrapes. The same string picks
    // the registry's writer and labels the body, so the two cannot disagree. (The client's own
    // constant lives in a runtime-only dependency.)
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;
    private final List<MountMeters> mounts;

    MetricsEndpoint(PrometheusMeterRegistry registry, List<MountMeters> mounts) {
        this.registry = registry;
        this.mounts = List.copyOf(mounts);
    }

    // Synchronized so two overlapping scrapes cannot interleave refreshes: each scrape reports
    // exactly the snapshots it took. Scrapes are seconds apart, the lock costs nothing.
    @Override
    public synchronized Response get() {
        mounts.forEach(MountMeters::refresh);
        return new Response(CONTENT_TYPE, registry.scrape(CONTENT_TYPE).getBytes(UTF_8));
    }
}
