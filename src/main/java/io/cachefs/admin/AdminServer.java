package io.cachefs.admin;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The daemon's observability endpoint ({@code --admin 127.0.0.1:PORT}): plain HTTP serving
 * {@code GET /metrics} (Prometheus text) and {@code GET /status} (JSON) for the mounts it was
 * started with. It only reads the mounts' snapshots; it changes nothing, so it needs no
 * authentication as long as it listens on loopback.
 *
 * <p>This class is the bootstrap: it binds the socket, builds the meter registry and wires the
 * endpoints into one {@link AdminHandler}. Each request runs on its own virtual thread:
 * requests are rare and short, and a thread each needs no pool sizing on a small machine.
 */
public final class AdminServer implements AutoCloseable {

    private final HttpServer http;
    private final ExecutorService requests;
    private final PrometheusMeterRegistry registry;
    private final AtomicBoolean closed = new AtomicBoolean();

    private AdminServer(HttpServer http, ExecutorService requests,
            PrometheusMeterRegistry registry) {
        this.http = http;
        this.requests = requests;
        this.registry = registry;
    }

    /**
     * Binds {@code address} (port 0 picks a free port) and starts serving.
     *
     * @param mounts reported in this order; their mount points must differ, since the mount
     *     point tells their series apart
     * @throws BindException with a message a user can act on if the address is taken or cannot
     *     be bound
     */
    public static AdminServer start(InetSocketAddress address,
            List<? extends MonitoredMount> mounts) throws IOException {
        List<MonitoredMount> reported = distinctMountPoints(mounts);
        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bindProcessMeters(registry);
        // Held by the endpoint, strongly, because Micrometer holds function meters' state weakly.
        List<MountMeters> meters = reported.stream()
                .map(mount -> MountMeters.bind(mount, registry))
                .toList();
        // Bound last, so a failure above cannot leave the port held.
        HttpServer http;
        try {
            http = bind(address);
        } catch (IOException e) {
            registry.close();
            throw e;
        }
        http.createContext("/", new AdminHandler(Map.of(
                "/metrics", new MetricsEndpoint(registry, meters),
                "/status", new StatusEndpoint(reported))));
        ExecutorService requests = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(requests);
        http.start();
        return new AdminServer(http, requests, registry);
    }

    /** The bound address, with the actual port when 0 was asked for. */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** Stops listening, drops requests in progress and waits for their threads to end. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        http.stop(0);
        requests.close();
        registry.close();
    }

    private static HttpServer bind(InetSocketAddress address) throws IOException {
        String shown = address.getHostString() + ":" + address.getPort();
        try {
            return HttpServer.create(address, 0);
        } catch (BindException e) {
            String reason = e.getMessage() != null && e.getMessage().contains("in use")
                    ? "is in use: choose another port"
                    : "cannot be bound (" + e.getMessage() + "): choose a local address";
            var clear = new BindException("admin address " + shown + " " + reason);
            clear.initCause(e);
            throw clear;
        }
    }

    private static List<MonitoredMount> distinctMountPoints(List<? extends MonitoredMount> mounts) {
        Set<String> seen = new HashSet<>();
        for (MonitoredMount mount : mounts) {
            if (!seen.add(mount.mountPoint())) {
                throw new IllegalArgumentException(
                        "mount point " + mount.mountPoint() + " is listed twice");
            }
        }
        return List.copyOf(mounts);
    }

    /** JVM meters that cost nothing between scrapes (no listeners, no background threads). */
    private static void bindProcessMeters(PrometheusMeterRegistry registry) {
        // promtool check metrics rejects two of ProcessorMetrics' names: system_cpu_count (a gauge
        // named like a histogram's _count) and process_cpu_time_ns_total (an abbreviated unit,
        // nanoseconds where Prometheus wants seconds). The CPU usage gauges stay.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("system.cpu.count")
                || id.getName().equals("process.cpu.time")));
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }
}
