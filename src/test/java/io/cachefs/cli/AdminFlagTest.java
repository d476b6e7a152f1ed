package io.cachefs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachefs.LoopbackPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.net.ConnectException;
import java.util.ArrayList;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cachefs mount --admin HOST:PORT}: the daemon reports its real reads on /metrics and /status. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class AdminFlagTest {
    private static final long FILE_SIZE = (6L << 20) + 123; // two blocks, the second partial

    private ScratchDir scratch;

    @BeforeEach
    void setUp() throws Exception {
        scratch = new ScratchDir();
    }

    @AfterEach
    void tearDown() throws Exception {
        scratch.close();
    }


    /** The endpoint starts just after the mount appears: a scraper retries a refused connection, and so do we. */
    private static String get(HttpClient http, int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> response = null;
        for (int attempt = 0; response == null; attempt++) {
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException e) {
                if (attempt == 100) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return response.body();
    }

    /** The value of the one sample with this name whose labels include {@code labels} (a substring such as {@code tier="memory"}). */
    private static double sample(String metrics, String name, String mount, String labels) {
        Pattern line = Pattern.compile("^" + name + "\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);
        Matcher m = line.matcher(metrics);
        List<Double> found = new ArrayList<>();
        while (m.find()) {
            if (m.group(1).contains("mount=\"" + mount + "\"") && m.group(1).contains(labels)) {
                found.add(Double.parseDouble(m.group(2)));
            }
        }
        assertEquals(1, found.size(), "one sample of " + name + "{" + labels + "} in:\n" + metrics);
        return found.getFirst();
    }

    @Test
    void metricsAndStatusCountAFileReadTwiceOnceFromTheSourceThenFromMemory() throws Exception {
        Path source = scratch.dir("source");
        String digest = Digests.sha256(scratch.file("source/model.safetensors", FILE_SIZE, 3));
        Path mount = scratch.dir("mount");
        int port = LoopbackPort.free();
        // READ requests rather than passthrough and no kernel page cache, so the daemon sees the
        // second read (passthrough and page-cache hits never reach it, so nothing could count them)
        try (DaemonProcess daemon = DaemonProcess.start(scratch, mount, "mount", "--source", source.toString(),
                "--mount", mount.toString(), "--capacity", "64M", "--no-passthrough", "--kernel-cache", "off",
                "--admin", "127.0.0.1:" + port).awaitMounted(Duration.ofSeconds(20));
             HttpClient http = HttpClient.newHttpClient()) {
            assertEquals(digest, Digests.sha256(mount.resolve("model.safetensors")));
            assertEquals(digest, Digests.sha256(mount.resolve("model.safetensors")));

            String metrics = get(http, port, "/metrics");
            String mountLabel = mount.toString();
            assertEquals(FILE_SIZE, sample(metrics, "cachefs_source_read_bytes_total", mountLabel, ""),
                    "the source was read once, whole: the second read cost it nothing");
            double memory = sample(metrics, "cachefs_read_bytes_total", mountLabel, "tier=\"memory\"");
            assertTrue(memory >= FILE_SIZE, "the second read came from memory: " + memory + " bytes");
            assertEquals(FILE_SIZE, sample(metrics, "cachefs_read_bytes_total", mountLabel, "tier=\"source\""),
                    "the first read's bytes are counted as from the source");

            JsonNode status = new ObjectMapper().readTree(get(http, port, "/status"));
            JsonNode mounts = status.path("mounts");
            assertEquals(1, mounts.size(), status.toPrettyString());
            JsonNode entry = mounts.get(0);
            assertEquals(mountLabel, entry.path("mountPoint").asText());
            assertEquals(source.toString(), entry.path("source").asText());
            assertTrue(entry.path("hitRatio").asDouble() > 0, "hitRatio > 0: " + entry);
            assertEquals(64L << 20, entry.path("capacityBytes").asLong());
            assertEquals(daemon.pid(), status.path("process").path("pid").asLong());
        }
    }
}
