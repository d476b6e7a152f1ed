package io.cachefs.admin;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * Real HTTP requests to an {@link AdminServer}, as curl or Prometheus would make them; with
 * {@link #serving}, to a server of its own on an ephemeral loopback port, stopped with the client.
 */
final class AdminClient implements AutoCloseable {

    // Short: everything is on loopback, and a hung test should fail rather than stall the build.
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(TIMEOUT)
            .build();
    private final AdminServer server;

    private AdminClient(AdminServer server) {
        this.server = server;
    }

    /** Starts an admin server reporting {@code mounts} on 127.0.0.1, any free port, and a client of it. */
    static AdminClient serving(List<? extends MonitoredMount> mounts) throws IOException {
        return new AdminClient(AdminServer.start(new InetSocketAddress("127.0.0.1", 0), mounts));
    }

    AdminServer server() {
        return server;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send("GET", path);
    }

    HttpResponse<String> send(String method, String path)
            throws IOException, InterruptedException {
        var address = server.address();
        var request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + address.getPort() + path))
                .timeout(TIMEOUT)
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Closes the client and stops its server. */
    @Override
    public void close() {
        try {
            http.close();
        } finally {
            server.close();
        }
    }
}
