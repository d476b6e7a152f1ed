package io.cachefs.admin;

import io.cachefs.peer.PortEvent;
import io.cachefs.source.SourceCounter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code GET /status} over real HTTP: a JSON document with every mount field and the process. */
class StatusEndpointTest {

    final ObjectMapper json = new ObjectMapper();
    final FakeMount models = new FakeMount("/mnt/models", "/oss/models");
    AdminClient client;

    @BeforeEach
    void start() throws Exception {
        models.set(FakeMount.numbered(1000));
        client = AdminClient.serving(List.of(models));
    }

    @AfterEach
    void stop() {
        client.close();
    }

    @Test
    void statusIsJsonWithEveryMountField() throws Exception {
        JsonNode mount = status().path("mounts").get(0);

        MountMetrics m = FakeMount.numbered(1000);
        assertEquals("/mnt/models", mount.path("mountPoint").asText());
        assertEquals("/oss/models", mount.path("source").asText());
        assertEquals(m.cache().capacityBytes(), mount.path("capacityBytes").asLong());
        assertEquals(m.cache().usedBytes(), mount.path("usedBytes").asLong());
        assertEquals(m.hitRatio(), mount.path("hitRatio").asDouble());
        assertEquals(m.cache().filesCached(), mount.path("filesCached").asInt());
        assertEquals(m.cache().blocks(), mount.path("blocks").asLong());
        assertEquals(m.readBytesMemory(), mount.path("readBytes").path("memory").asLong());
        assertEquals(m.readBytesPeer(), mount.path("readBytes").path("peer").asLong());
        assertEquals(m.readBytesSource(), mount.path("readBytes").path("source").asLong());
        assertEquals(m.sourceReadBytes(), mount.path("sourceReadBytes").asLong());
        assertEquals(m.passthroughOpens(), mount.path("passthroughOpens").asLong());
        assertEquals(m.cache().evictions(), mount.path("evictions").asLong());
        assertEquals(m.cache().uncachedBytes(), mount.path("uncachedReadBytes").asLong());
        assertEquals(2, mount.path("peers").size());
        assertEquals("127.0.0.1:7070", mount.path("peers").get(0).path("address").asText());
        assertTrue(mount.path("peers").get(0).path("self").asBoolean());
        assertFalse(mount.path("peers").get(1).path("live").asBoolean());
        assertEquals(3, mount.path("peers").get(1).path("failures").asLong());
        assertEquals(m.peer().servedBytes(), mount.path("peerServedBytes").asLong());
        assertEquals(List.of("connection_rejected", "request_timeout", "bad_signature", "replay", "tls_refused"),
                fieldNames(mount.path("peerPortEvents")), "by event, in the enum's order");
        assertEquals(m.peer().portEvents().get(PortEvent.REPLAY), mount.path("peerPortEvents").path("replay").asLong());
        assertEquals(m.health().workersDied(), mount.path("faults").path("workersDied").asLong());
        assertEquals(m.cache().failedLoads(), mount.path("faults").path("failedLoads").asLong());
        assertEquals(m.source().get(SourceCounter.OPENS), mount.path("sourceLoading").path("opens").asLong());
    }

    @Test
    void statusReportsThisProcess() throws Exception {
        JsonNode process = status().path("process");

        assertEquals(ProcessHandle.current().pid(), process.path("pid").asLong());
        assertTrue(process.path("uptimeSeconds").asLong(-1) >= 0, process.toString());
        assertTrue(process.path("heapUsedBytes").asLong() > 0, process.toString());
        assertTrue(process.has("heapMaxBytes"), process.toString());
    }

    @Test
    void statusReadsTheMountAfresh() throws Exception {
        status();
        models.set(FakeMount.numbered(7000));

        assertEquals(7000 + 3, status().path("mounts").get(0).path("evictions").asLong());
    }

    @Test
    void failingMountAnswers500WithOneLineAndTheServerKeepsServing() throws Exception {
        models.failWith(new IllegalStateException("stats unavailable\nsecond line"));

        HttpResponse<String> failed = client.get("/status");

        assertEquals(500, failed.statusCode());
        assertEquals("internal error serving /status: IllegalStateException: stats unavailable"
                + " second line\n", failed.body());
        models.failWith(null);
        assertEquals(200, client.get("/status").statusCode());
    }

    private JsonNode status() throws Exception {
        HttpResponse<String> response = client.get("/status");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("application/json",
                response.headers().firstValue("Content-Type").orElseThrow());
        return json.readTree(response.body());
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
