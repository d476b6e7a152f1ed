package io.cachefs.peer;

import static io.cachefs.peer.BlockServerTest.BLOCK;
import static io.cachefs.peer.BlockServerTest.TOKEN;
import static io.cachefs.peer.BlockServerTest.loopback;
import static io.cachefs.peer.BlockServerTest.randomBytes;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The peer port against misuse, on real sockets: connection caps per client address and in all,
 * and a request deadline that trickled bytes do not move (slow-loris).
 */
class PortLimitsTest {
    private static final Duration DEADLINE = Duration.ofMillis(800);

    @TempDir
    Path dir;
    private SourceBlocks blocks;
    private BlockServer server;
    private final List<Socket> sockets = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        Files.write(dir.resolve("model.bin"), randomBytes(BLOCK, 1));
        blocks = new SourceBlocks(dir, BLOCK);
    }

    private void serve(Duration deadline) throws IOException {
        server = BlockServer.start(loopback(), blocks, PeerToken.from(TOKEN),
                new BlockServer.Limits(Duration.ofSeconds(30), deadline, 4, 6));
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket socket : sockets) {
            socket.close();
        }
        if (server != null) {
            server.close();
        }
        blocks.close();
    }

    private Socket connect(String from) throws IOException {
        Socket socket = new Socket();
        sockets.add(socket);
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(server.address(), 2000);
        socket.setSoTimeout(3000);
        return socket;
    }

    /** Whether the server closed {@code socket}: its read ends (or is reset) within the socket timeout. */
    private static boolean closedByServer(Socket socket) throws IOException {
        try {
            InputStream in = socket.getInputStream();
            while (in.read() >= 0) {
                // an error answer before the close is fine
            }
            return true;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (SocketException reset) {
            return true;
        }
    }

    private static void awaitStats(BlockServer server, java.util.function.Predicate<BlockServerStats> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!done.test(server.stats()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void connectionsOverTheCapPerAddressAreClosedAtAcceptAndCounted() throws Exception {
        serve(Duration.ofSeconds(30));
        List<Socket> admitted = new ArrayList<>(); // idle, within the deadline: kept
        for (int i = 0; i < 4; i++) {
            admitted.add(connect("127.0.0.1"));
        }
        Socket fifth = connect("127.0.0.1");
        assertTrue(closedByServer(fifth), "a fifth connection from one address is closed");
        awaitStats(server, s -> s.portEvents().get(PortEvent.CONNECTION_REJECTED) == 1);
        assertEquals(1, server.stats().portEvents().get(PortEvent.CONNECTION_REJECTED));
        Socket other = connect("127.0.0.2");
        other.getOutputStream().write(("GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(ISO_8859_1));
        String answer = new String(other.getInputStream().readNBytes(12), ISO_8859_1);
        assertEquals("HTTP/1.1 404", answer, "another address still gets served");
        admitted.getFirst().close();
        Thread.sleep(200); // its place is freed as it closes
        Socket again = connect("127.0.0.1");
        again.getOutputStream().write(("GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(ISO_8859_1));
        assertEquals("HTTP/1.1 404", new String(again.getInputStream().readNBytes(12), ISO_8859_1));
        assertEquals(1, server.stats().portEvents().get(PortEvent.CONNECTION_REJECTED));
    }

    @Test
    void connectionsOverTheTotalCapAreClosedWhateverTheirAddress() throws Exception {
        serve(Duration.ofSeconds(30));
        for (int i = 0; i < 4; i++) {
            connect("127.0.0.1");
        }
        connect("127.0.0.2");
        connect("127.0.0.3");
        Socket seventh = connect("127.0.0.4");
        assertTrue(closedByServer(seventh), "the seventh connection is over the total of six");
        awaitStats(server, s -> s.portEvents().get(PortEvent.CONNECTION_REJECTED) == 1);
        assertEquals(1, server.stats().portEvents().get(PortEvent.CONNECTION_REJECTED));
    }

    @Test
    void aClientTricklingItsRequestIsClosedAtTheDeadlineHoweverOftenBytesCome() throws Exception {
        serve(DEADLINE);
        Socket loris = connect("127.0.0.1");
        byte[] request = "GET /v1/blocks/0?path=model.bin HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaa"
                .getBytes(ISO_8859_1);
        long start = System.nanoTime();
        boolean closed = false;
        try {
            for (byte b : request) {
                loris.getOutputStream().write(b);
                Thread.sleep(50); // a byte well inside any idle timeout
            }
        } catch (SocketException reset) {
            closed = true;
        }
        assertTrue(closed || closedByServer(loris), "a trickled request is cut off");
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMillis < 4 * DEADLINE.toMillis(), "closed after " + tookMillis + " ms, deadline " + DEADLINE);
        awaitStats(server, s -> s.portEvents().get(PortEvent.REQUEST_TIMEOUT) == 1);
        assertEquals(1, server.stats().portEvents().get(PortEvent.REQUEST_TIMEOUT));
    }

    @Test
    void aConnectionThatNeverSendsARequestIsClosedAtTheDeadline() throws Exception {
        serve(DEADLINE);
        Socket silent = connect("127.0.0.1");
        assertTrue(closedByServer(silent), "a connection that says nothing is closed after the deadline");
        awaitStats(server, s -> s.portEvents().get(PortEvent.REQUEST_TIMEOUT) == 1);
        assertEquals(1, server.stats().portEvents().get(PortEvent.REQUEST_TIMEOUT));
    }
}
