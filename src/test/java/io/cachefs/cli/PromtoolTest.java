package io.cachefs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachefs.LoopbackPort;
import io.cachefs.fuse.SourceMount;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A live daemon's {@code /metrics}, with a peer group and reads behind it, passes Prometheus'
 * own checker: {@code promtool check metrics} (Debian's prometheus package, installed by
 * bin/test) parses it and lints every name, type, unit and help text.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class PromtoolTest {
    private static final long MIB = 1 << 20;


    @Test
    void metricsOfALiveDaemonPassPromtoolCheckMetrics() throws Exception {
        try (ScratchDir scratch = new ScratchDir(); SourceMount source = SourceMount.start();
             HttpClient http = HttpClient.newHttpClient()) {
            source.addRandomFile("model.safetensors", 12 * MIB, 1);
            Path mount = scratch.dir("mount");
            Path token = scratch.text("token", "promtool-test-secret\n");
            int admin = LoopbackPort.free();
            int peer = LoopbackPort.free();
            try (DaemonProcess daemon = DaemonProcess.start(scratch, mount, "mount", "--source",
                    source.dir().toString(), "--mount", mount.toString(), "--capacity", "64M", "--admin",
                    "127.0.0.1:" + admin, "--listen", "127.0.0.1:" + peer, "--peers",
                    "127.0.0.1:" + peer + ",127.0.0.2:" + LoopbackPort.free(), "--peer-token-file", token.toString())) {
                daemon.awaitMounted(Duration.ofSeconds(30));
                Digests.sha256(mount.resolve("model.safetensors"));
                String metrics = get(http, "http://127.0.0.1:" + admin + "/metrics");
                assertTrue(metrics.contains("cachefs_read_bytes_total{"), metrics);
                assertTrue(metrics.contains("cachefs_peer_requests_total{"), metrics);

                Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
                try (OutputStream in = promtool.getOutputStream()) {
                    in.write(metrics.getBytes(StandardCharsets.UTF_8));
                }
                String verdict = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(promtool.waitFor(30, TimeUnit.SECONDS), "promtool ended");
                assertEquals(0, promtool.exitValue(), "promtool check metrics found problems:\n" + verdict);
                assertEquals("", verdict.strip(), verdict);
                dashboardQueriesAreValidPromqlOverTheseMetrics(scratch, metrics);
            }
        }
    }

    /**
     * Every query of the Grafana dashboard, its variables filled in, passes {@code promtool check
     * rules} as a recording rule (PromQL parsed by Prometheus itself), and names only metrics the
     * daemon exports.
     */
    private static void dashboardQueriesAreValidPromqlOverTheseMetrics(ScratchDir scratch, String metrics)
            throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Path.of("deploy/grafana/cachefs-dashboard.json").toFile());
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            panel.path("targets").forEach(target -> queries.add(target.path("expr").asText()));
        }
        dashboard.path("templating").path("list").forEach(v -> {
            String query = v.path("query").path("query").asText();
            Matcher inner = Pattern.compile("label_values\\((.+), \\w+\\)").matcher(query);
            if (inner.matches()) {
                queries.add(inner.group(1));
            }
        });
        assertTrue(queries.size() >= 12, queries.toString());
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (int i = 0; i < queries.size(); i++) {
            String query = queries.get(i).replace("$__rate_interval", "5m").replace("$instance", ".*")
                    .replace("$mount", ".*");
            rules.append("      - record: dashboard:query").append(i).append("\n        expr: '")
                    .append(query.replace("'", "''")).append("'\n");
            Matcher name = Pattern.compile("\\b(cachefs_\\w+)").matcher(query);
            while (name.find()) {
                assertTrue(metrics.contains("\n" + name.group(1) + "{"), name.group(1) + " of " + query + " is exported");
            }
        }
        Path file = scratch.text("dashboard-rules.yml", rules.toString());
        Process check = new ProcessBuilder("promtool", "check", "rules", file.toString()).redirectErrorStream(true).start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, check.exitValue(), "promtool check rules on the dashboard's queries:\n" + out + "\n" + rules);
    }

    private static String get(HttpClient http, String uri) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10)).build();
        for (int attempt = 0; ; attempt++) {
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                assertEquals(200, response.statusCode(), response.body());
                return response.body();
            } catch (ConnectException e) {
                if (attempt == 100) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
