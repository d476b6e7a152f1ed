package io.cachefs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachefs.LoopbackPort;
import io.cachefs.fuse.SourceMount;
import io.cachefs.warmup.FileState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cache.preload} in a service file, and {@code --preload}: loaded after mounting, in the background. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class PreloadTest {
    private static final long MIB = 1 << 20;
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private ScratchDir scratch;
    private SourceMount source;

    @BeforeEach
    void setUp() throws Exception {
        scratch = new ScratchDir();
        source = SourceMount.start();
        source.mkdir("models");
        source.addRandomFile("models/a.safetensors", 80 * MIB, 1);
        source.addRandomFile("models/b.safetensors", 16 * MIB, 2);
        source.addRandomFile("models/notes.txt", MIB, 3);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            source.close();
        } finally {
            scratch.close();
            http.close();
        }
    }


    private JsonNode preloadStatus(int port) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status")).build();
        for (int attempt = 0; ; attempt++) {
            try {
                return json.readTree(http.send(request, HttpResponse.BodyHandlers.ofString()).body())
                        .path("mounts").get(0).path("preload");
            } catch (ConnectException e) {
                if (attempt == 100) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    @Test
    void theServiceFilesPreloadRunsAfterTheMountWithProgressInTheLogAndStatus() throws Exception {
        Path mount = scratch.dir("data");
        int admin = LoopbackPort.free();
        Path config = scratch.text("service.json", """
                {"storage": [{"mount_path": "%s",
                              "cache": {"capacity": "1G", "path": "%s", "preload": ["models/*.safetensors"]}}]}
                """.formatted(mount, source.dir()));
        try (DaemonProcess daemon = DaemonProcess.start(scratch, List.of(mount), List.of(), "run", "--config",
                config.toString(), "--source-throttle", "16M", "--admin", "127.0.0.1:" + admin)) {
            daemon.awaitMounted(Duration.ofSeconds(30));
            JsonNode early = preloadStatus(admin);
            assertEquals("running", early.path("state").asText(), "the mount serves while the preload runs: " + early);
            assertTrue(early.path("doneBytes").asLong() < 96 * MIB, early.toString());

            JsonNode status = early;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (status.path("state").asText().equals("running") && System.nanoTime() < deadline) {
                Thread.sleep(250);
                status = preloadStatus(admin);
            }
            assertEquals("done", status.path("state").asText(), status.toString());
            assertEquals(2, status.path("files").asInt());
            assertEquals(96 * MIB, status.path("doneBytes").asLong());
            assertEquals(96 * MIB, status.path("sourceBytes").asLong());
            assertEquals(List.of("models/*.safetensors"), List.of(status.path("globs").get(0).asText()));
            assertEquals(96 * MIB, source.bytesRead(), "the globs' files only, each byte once");
            assertTrue(FileState.of(mount.resolve("models/a.safetensors")).whole());
            FileState notes = FileState.of(mount.resolve("models/notes.txt"));
            assertFalse(notes.whole(), "not matched, not loaded: " + notes + ", source read " + source.bytesRead()
                    + " bytes\n" + daemon.stderr());

            String log = daemon.stderr();
            assertTrue(log.contains("preload: 2 files, 96 MiB, matching [models/*.safetensors]"), log);
            assertTrue(Pattern.compile("preload: \\S+ \\S+ of 96 MiB \\(\\d+%\\), [\\d,]+ MB/s, ETA").matcher(log).find(), log);
            assertTrue(log.contains("preload done: 2 of 2 files cached, 96 MiB; read 96 MiB in "), log);

            InProcessCli.Outcome summary = InProcessCli.execute("status", "--admin", "127.0.0.1:" + admin);
            assertTrue(Pattern.compile("preload +done: 96 MiB of 96 MiB \\(100%\\), 2 of 2 files; memory 0 B, peer 0 B, "
                    + "source 96 MiB").matcher(summary.stdout()).find(), summary.stdout());
        }
    }

    @Test
    void theFlagIsRepeatableAndAGlobMatchingNothingIsOnlyAWarning() throws Exception {
        Path mount = scratch.dir("mount");
        try (DaemonProcess daemon = DaemonProcess.start(scratch, mount, "mount", "--source", source.dir().toString(),
                "--mount", mount.toString(), "--capacity", "1G", "--preload", "models/b.safetensors", "--preload",
                "**.txt", "--preload", "*.gguf")) {
            daemon.awaitMounted(Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!daemon.stderr().contains("preload done") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            String log = daemon.stderr();
            assertTrue(log.contains("preload: *.gguf matches no file"), log);
            assertTrue(log.contains("preload done: 2 of 2 files cached, 17 MiB"), log);
            assertEquals(17 * MIB, source.bytesRead());
        }
    }

    @Test
    void anAbsoluteOrBrokenGlobIsBadInput() throws Exception {
        Path mount = scratch.dir("mount");
        InProcessCli.Outcome absolute = InProcessCli.execute("mount", "--source", source.dir().toString(), "--mount",
                mount.toString(), "--capacity", "1G", "--preload", "/models/*");
        assertEquals(2, absolute.exit());
        assertEquals("cachefs: preload glob \"/models/*\" must be relative to the mount point, e.g. '*.safetensors', "
                + "'sdxl/**' or '**.gguf'\n", absolute.stderr());
        InProcessCli.Outcome broken = InProcessCli.execute("mount", "--source", source.dir().toString(), "--mount",
                mount.toString(), "--capacity", "1G", "--preload", "models/[a");
        assertEquals(2, broken.exit());
        assertTrue(broken.stderr().startsWith("cachefs: preload glob \"models/[a\" is not a glob: "), broken.stderr());
    }
}
