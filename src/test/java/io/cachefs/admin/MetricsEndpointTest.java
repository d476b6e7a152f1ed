package io.cachefs.admin;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.cache.CacheCounter;
import io.cachefs.fs.ReadCounter;
import io.cachefs.peer.PeerFetch;
import io.cachefs.peer.PeerResults;
import io.cachefs.peer.PortEvent;
import io.cachefs.source.SourceCounter;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code GET /metrics} over real HTTP: exact exposed names, tags, values and freshness. */
class MetricsEndpointTest {

    /** One exposed series: its exact name, labels besides {@code mount}, and its field. */
    record Series(String name, Map<String, String> labels, String type,
            ToLongFunction<MountMetrics> field) {}

    static final List<Series> SERIES = Stream.concat(Stream.of(
            new Series("cachefs_read_bytes_total", Map.of("tier", "memory"), "counter",
                    MountMetrics::readBytesMemory),
            new Series("cachefs_read_bytes_total", Map.of("tier", "peer"), "counter",
                    MountMetrics::readBytesPeer),
            new Series("cachefs_read_bytes_total", Map.of("tier", "source"), "counter",
                    MountMetrics::readBytesSource),
            new Series("cachefs_source_read_bytes_total", Map.of(), "counter",
                    MountMetrics::sourceReadBytes),
            new Series("cachefs_source_reads_total", Map.of(), "counter", m -> m.source().get(SourceCounter.READS)),
            new Series("cachefs_evictions_total", Map.of(), "counter", m -> m.cache().evictions()),
            new Series("cachefs_passthrough_opens_total", Map.of(), "counter",
                    MountMetrics::passthroughOpens),
            new Series("cachefs_uncached_read_bytes_total", Map.of(), "counter", m -> m.cache().uncachedBytes()),
            new Series("cachefs_cache_hits_total", Map.of(), "counter", m -> m.cache().hits()),
            new Series("cachefs_cache_misses_total", Map.of(), "counter", m -> m.cache().misses()),
            new Series("cachefs_cache_loaded_bytes_total", Map.of(), "counter", m -> m.cache().loadedBytes()),
            new Series("cachefs_cache_failed_loads_total", Map.of(), "counter", m -> m.cache().failedLoads()),
            new Series("cachefs_cache_bytes", Map.of(), "gauge", m -> m.cache().usedBytes()),
            new Series("cachefs_cache_capacity_bytes", Map.of(), "gauge", m -> m.cache().capacityBytes()),
            new Series("cachefs_blocks", Map.of(), "gauge", m -> m.cache().blocks()),
            new Series("cachefs_files_cached", Map.of(), "gauge", m -> m.cache().filesCached()),
            new Series("cachefs_source_opens_total", Map.of(), "counter", m -> m.source().get(SourceCounter.OPENS)),
            new Series("cachefs_source_read_rate_bytes_per_second", Map.of(), "gauge",
                    m -> m.loading().measuredBytesPerSecond()),
            new Series("cachefs_load_streams", Map.of(), "gauge", m -> m.loading().streams()),
            new Series("cachefs_load_target_streams", Map.of(), "gauge", m -> m.loading().targetStreams()),
            new Series("cachefs_load_in_flight_bytes", Map.of(), "gauge", m -> m.loading().bytesInFlight()),
            new Series("cachefs_load_abandoned_total", Map.of(), "counter",
                    m -> m.cache().counts().get(CacheCounter.ABANDONED_LOADS)),
            new Series("cachefs_peer_served_bytes_total", Map.of(), "counter", m -> m.peer().servedBytes()),
            new Series("cachefs_peer_passed_on_bytes_total", Map.of(), "counter", m -> m.peer().passedOnBytes()),
            new Series("cachefs_peer_members", Map.of("state", "live"), "gauge",
                    m -> m.peer().members().stream().filter(p -> p.self() || p.live()).count()),
            new Series("cachefs_peer_members", Map.of("state", "down"), "gauge",
                    m -> m.peer().members().stream().filter(p -> !p.self() && !p.live()).count()),
            new Series("cachefs_failed_reads_total", Map.of(), "counter", m -> m.reads().get(ReadCounter.FAILED_READS)),
            new Series("cachefs_offline_opens_total", Map.of(), "counter",
                    m -> m.reads().get(ReadCounter.OFFLINE_OPENS)),
            new Series("cachefs_stale_metadata_answers_total", Map.of(), "counter",
                    m -> m.health().staleMetadataAnswers()),
            new Series("cachefs_source_unanswered_total", Map.of(), "counter",
                    m -> m.health().unansweredSourceCalls()),
            new Series("cachefs_source_reachable", Map.of(), "gauge", m -> m.health().sourceReachable() ? 1 : 0),
            new Series("cachefs_fuse_workers", Map.of(), "gauge", m -> m.health().workers()),
            new Series("cachefs_fuse_workers_died_total", Map.of(), "counter", m -> m.health().workersDied()),
            new Series("cachefs_peer_fetched_bytes_total", Map.of("peer", "127.0.0.2:7070"), "counter",
                    m -> m.peer().members().get(1).fetchedBytes()),
            new Series("cachefs_peer_sent_bytes_total", Map.of("peer", "127.0.0.2:7070"), "counter",
                    m -> m.peer().members().get(1).servedBytes()),
            new Series("cachefs_peer_redirects_total", Map.of("peer", "127.0.0.2:7070"), "counter",
                    m -> m.peer().members().get(1).redirects())),
            Stream.of(
                    Arrays.stream(PeerResults.Answer.values()).map(a -> new Series("cachefs_peer_requests_total",
                            Map.of("result", lowerCase(a)), "counter", m -> m.peer().results().answers().get(a))),
                    Arrays.stream(PeerFetch.Kind.values()).map(k -> new Series("cachefs_peer_requests_total",
                            Map.of("result", lowerCase(k)), "counter", m -> m.peer().results().failures().get(k))),
                    Arrays.stream(PortEvent.values()).map(e -> new Series("cachefs_peer_port_events_total",
                            Map.of("event", lowerCase(e)), "counter", m -> m.peer().portEvents().get(e))))
                    .flatMap(s -> s)).toList();

    /** The peer results dashboards know; a new kind of failure adds to them. */
    static final List<String> PEER_RESULTS = List.of("fetched", "not_there", "redirected", "timeout", "refused",
            "bad_checksum", "bad_digest", "bad_response", "unauthorized", "tls_handshake", "conflict", "error");

    /** The peer port's events. */
    static final List<String> PORT_EVENTS = List.of("connection_rejected", "request_timeout", "bad_signature",
            "replay", "tls_refused");

    final FakeMount models = new FakeMount("/mnt/models", "/oss/models");
    final FakeMount loras = new FakeMount("/mnt/loras", "/nas/loras");
    AdminClient client;

    @BeforeEach
    void start() throws Exception {
        models.set(FakeMount.numbered(1000));
        loras.set(FakeMount.numbered(5000));
        client = AdminClient.serving(List.of(models, loras));
    }

    @AfterEach
    void stop() {
        client.close();
    }

    @Test
    void everySeriesHasItsExactNameMountTagAndTheMountsValue() throws Exception {
        PrometheusText scrape = scrape();

        assertAll(SERIES.stream().map(series -> () -> assertEquals(
                Optional.of((double) series.field().applyAsLong(FakeMount.numbered(1000))),
                scrape.value(series.name(), labels("/mnt/models", series)),
                series.name() + series.labels())));
    }

    @Test
    void eachMountIsTaggedWithItsOwnMountPoint() throws Exception {
        PrometheusText scrape = scrape();

        assertAll(SERIES.stream().map(series -> () -> assertEquals(
                Optional.of((double) series.field().applyAsLong(FakeMount.numbered(5000))),
                scrape.value(series.name(), labels("/mnt/loras", series)),
                series.name() + series.labels())));
    }

    @Test
    void cachefsNamesAreExactlyTheDocumentedOnesWithTheirTypes() throws Exception {
        PrometheusText scrape = scrape();

        Set<String> documented = new TreeSet<>();
        SERIES.forEach(series -> documented.add(series.name()));
        assertEquals(documented, scrape.names("cachefs_"));
        assertAll(SERIES.stream().map(series -> () ->
                assertEquals(series.type(), scrape.types().get(series.name()), series.name())));
    }

    @Test
    void peerResultsAndPortEventsKeepTheirLabels() throws Exception {
        PrometheusText scrape = scrape();

        assertAll(PEER_RESULTS.stream().map(result -> () -> assertTrue(scrape.value("cachefs_peer_requests_total",
                Map.of("mount", "/mnt/models", "result", result)).isPresent(), result)));
        assertAll(PORT_EVENTS.stream().map(event -> () -> assertTrue(scrape.value("cachefs_peer_port_events_total",
                Map.of("mount", "/mnt/models", "event", event)).isPresent(), event)));
        assertEquals(PORT_EVENTS.size(), PortEvent.values().length, "every port event is named here");
    }

    @Test
    void secondScrapeShowsValuesChangedSinceTheFirst() throws Exception {
        scrape();
        models.set(FakeMount.numbered(2000));

        PrometheusText second = scrape();

        assertAll(SERIES.stream().map(series -> () -> assertEquals(
                Optional.of((double) series.field().applyAsLong(FakeMount.numbered(2000))),
                second.value(series.name(), labels("/mnt/models", series)),
                series.name() + series.labels())));
    }

    @Test
    void eachScrapeReadsEachMountOnce() throws Exception {
        int before = models.reads();

        scrape();
        scrape();

        assertEquals(2, models.reads() - before);
    }

    @Test
    void servesThePrometheusTextFormatWithJvmMeters() throws Exception {
        HttpResponse<String> response = client.get("/metrics");

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow()
                .startsWith("text/plain; version=0.0.4"), response.headers().toString());
        assertTrue(PrometheusText.parse(response.body()).names("jvm_")
                .contains("jvm_memory_used_bytes"), "JVM memory meters");
    }

    @Test
    void failingMountAnswers500AndTheNextScrapeWorks() throws Exception {
        loras.failWith(new IllegalStateException("cache closed"));

        HttpResponse<String> failed = client.get("/metrics");

        assertEquals(500, failed.statusCode());
        assertEquals("internal error serving /metrics: IllegalStateException: cache closed\n",
                failed.body());
        loras.failWith(null);
        assertEquals(200, client.get("/metrics").statusCode());
    }

    private PrometheusText scrape() throws Exception {
        HttpResponse<String> response = client.get("/metrics");
        assertEquals(200, response.statusCode(), response.body());
        return PrometheusText.parse(response.body());
    }

    private static String lowerCase(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }

    private static Map<String, String> labels(String mountPoint, Series series) {
        var labels = new TreeMap<>(series.labels());
        labels.put("mount", mountPoint);
        return labels;
    }
}
