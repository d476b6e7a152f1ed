package io.cachefs.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server around the endpoints: binding, routing errors, closing. */
class AdminServerTest {

    static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress("127.0.0.1", 0);

    final FakeMount models = new FakeMount("/mnt/models", "/oss/models");
    AdminServer server;
    AdminClient client;

    @BeforeEach
    void start() throws Exception {
        client = AdminClient.serving(List.of(models));
        server = client.server();
    }

    @AfterEach
    void stop() {
        client.close();
    }

    @Test
    void addressIsTheEphemeralPortActuallyBound() {
        assertEquals("127.0.0.1", server.address().getAddress().getHostAddress());
        assertNotEquals(0, server.address().getPort());
    }

    @Test
    void unknownPathAnswers404WithOneLine() throws Exception {
        HttpResponse<String> response = client.get("/metrics/extra");

        assertEquals(404, response.statusCode());
        assertEquals("not found: /metrics/extra (try /metrics or /status)\n", response.body());
    }

    @Test
    void nonGetAnswers405AllowingGet() throws Exception {
        HttpResponse<String> response = client.send("POST", "/status");

        assertEquals(405, response.statusCode());
        assertEquals("method not allowed: POST\n", response.body());
        assertEquals("GET", response.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void queryStringDoesNotChangeTheEndpoint() throws Exception {
        assertEquals(200, client.get("/status?pretty").statusCode());
    }

    @Test
    void takenPortFailsWithOneLineMessage() throws Exception {
        try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var address = new InetSocketAddress("127.0.0.1", taken.getLocalPort());

            var e = assertThrows(BindException.class, () -> AdminServer.start(address, List.of()));

            assertEquals("admin address 127.0.0.1:" + taken.getLocalPort()
                    + " is in use: choose another port", e.getMessage());
        }
    }

    @Test
    void twoMountsWithOneMountPointAreRejected() {
        var twin = new FakeMount("/mnt/models", "/elsewhere");

        var e = assertThrows(IllegalArgumentException.class,
                () -> AdminServer.start(ANY_LOOPBACK_PORT, List.of(models, twin)));

        assertEquals("mount point /mnt/models is listed twice", e.getMessage());
    }

    @Test
    void closedServerRefusesRequestsAndClosesTwiceQuietly() {
        server.close();
        server.close();

        assertThrows(IOException.class, () -> client.get("/status"));
    }
}
