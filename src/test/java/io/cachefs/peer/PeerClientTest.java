package io.cachefs.peer;

import static io.cachefs.peer.BlockServerTest.BLOCK;
import static io.cachefs.peer.BlockServerTest.TOKEN;
import static io.cachefs.peer.BlockServerTest.loopback;
import static io.cachefs.peer.BlockServerTest.randomBytes;
import static io.cachefs.peer.FakePeer.response;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.peer.BlockRequest.Mode;
import io.cachefs.peer.PeerFetch.Failed;
import io.cachefs.peer.PeerFetch.Fetched;
import io.cachefs.peer.PeerFetch.Kind;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The peer client against a real block server and against fake, misbehaving peers. */
class PeerClientTest {

    private static final Duration TIMEOUT = Duration.ofMillis(500);

    /** A file of exactly one small block, for the fake peers to serve. */
    private static final FileVersion FILE = new FileVersion("models/x.bin", 1000, 42);
    private static final BlockRequest REQUEST = new BlockRequest(FILE, 0, BLOCK, Mode.MEMORY);
    private static final byte[] BODY = randomBytes(1000, 3);

    @TempDir
    Path dir;
    PeerClient client;
    Arena arena;

    @BeforeEach
    void start() {
        client = new PeerClient(PeerToken.from(TOKEN), TIMEOUT, TIMEOUT);
        arena = Arena.ofShared();
    }

    @AfterEach
    void stop() {
        client.close();
        arena.close();
    }

    @Test
    void sequentialFetchesReuseOneKeepAliveConnection() throws IOException {
        byte[] model = randomBytes(10 * BLOCK, 5);
        Files.write(dir.resolve("model.bin"), model);
        try (SourceBlocks blocks = new SourceBlocks(dir, BLOCK);
                BlockServer server = BlockServer.start(loopback(), blocks, PeerToken.from(TOKEN))) {
            FileVersion file = blocks.version("model.bin");
            client.close();
            client = new PeerClient(PeerToken.from(TOKEN), TIMEOUT, Duration.ofSeconds(10)); // not about time
            for (int index = 0; index < 10; index++) {
                MemorySegment dst = arena.allocate(BLOCK);
                PeerFetch fetch = client.fetch(server.address(),
                        new BlockRequest(file, index, BLOCK, Mode.LOAD), dst);
                assertEquals(new Fetched(BLOCK), fetch);
                assertArrayEquals(BlockServerTest.slice(model, (long) index * BLOCK, BLOCK),
                        dst.toArray(ValueLayout.JAVA_BYTE));
            }
            BlockServerTest.awaitServed(server, 10);
            assertEquals(1, server.stats().connections());
        }
    }

    @Test
    void aPooledConnectionThePeerClosedWhileIdleIsReplaced() throws IOException,
            InterruptedException {
        Files.write(dir.resolve("model.bin"), randomBytes(BLOCK, 6));
        try (SourceBlocks blocks = new SourceBlocks(dir, BLOCK);
                BlockServer server = BlockServer.start(loopback(), blocks,
                        PeerToken.from(TOKEN), Duration.ofMillis(200))) {
            BlockRequest request = new BlockRequest(blocks.version("model.bin"), 0, BLOCK,
                    Mode.LOAD);
            assertEquals(new Fetched(BLOCK),
                    client.fetch(server.address(), request, arena.allocate(BLOCK)));
            Thread.sleep(600); // the server closes the idle connection

            assertEquals(new Fetched(BLOCK),
                    client.fetch(server.address(), request, arena.allocate(BLOCK)));
            assertEquals(2, server.stats().connections());
        }
    }

    /** Three heartbeats' worth: the server's heartbeat comes every half second. */
    private static final Duration SILENCE = Duration.ofMillis(3 * BlockRequestHandler.HEARTBEAT_MILLIS);

    @Test
    void aLoadLongerThanTheShortTimeoutIsKeptAliveByHeartbeats() throws Exception {
        byte[] model = randomBytes(BLOCK, 8);
        Files.write(dir.resolve("model.bin"), model);
        try (SourceBlocks blocks = new SourceBlocks(dir, BLOCK);
                BlockServer server = BlockServer.start(loopback(), blocks, PeerToken.from(TOKEN));
                PeerClient patient = new PeerClient(PeerToken.from(TOKEN), TIMEOUT, SILENCE, Duration.ofSeconds(30))) {
            blocks.holdLoads();
            Thread release = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(3 * SILENCE.toMillis()); // the owner's source read takes longer than the silence
                } catch (InterruptedException e) {
                    return;
                } finally {
                    blocks.releaseLoads();
                }
            });
            MemorySegment dst = arena.allocate(BLOCK);
            assertEquals(new Fetched(BLOCK), patient.fetch(server.address(),
                    new BlockRequest(blocks.version("model.bin"), 0, BLOCK, Mode.LOAD), dst));
            assertArrayEquals(model, dst.toArray(ValueLayout.JAVA_BYTE));
            release.join();
        }
    }

    @Test
    void aSilentPeerAskedToLoadTimesOutAtTheShortTimeout() throws IOException {
        try (FakePeer peer = new FakePeer(request -> null);
                PeerClient patient = new PeerClient(PeerToken.from(TOKEN), TIMEOUT, TIMEOUT, Duration.ofSeconds(30))) {
            long start = System.nanoTime();
            PeerFetch fetch = patient.fetch(peer.address(), new BlockRequest(FILE, 0, BLOCK, Mode.LOAD),
                    arena.allocate(1000));
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            Failed failed = assertInstanceOf(Failed.class, fetch);
            assertEquals(Kind.TIMEOUT, failed.kind());
            assertTrue(tookMillis < 10_000, "a silent peer held a load for " + tookMillis
                    + " ms: silence past the short timeout is a dead peer, whatever the load timeout");
            assertTrue(failed.reason().endsWith("within " + TIMEOUT.toMillis() + " ms"),
                    "the message names the limit that ran out, not the load's: " + failed.reason());
        }
    }

    @Test
    void aWrongChecksumIsBadChecksumAndTheConnectionIsNotReused() throws IOException {
        try (FakePeer peer = new FakePeer(request -> response("HTTP/1.1 200 OK\r\n"
                + "Content-Length: 1000\r\nX-CacheFS-CRC32C: " + crcOf(BODY, 1), BODY))) {
            for (int i = 0; i < 2; i++) {
                PeerFetch fetch = client.fetch(peer.address(), REQUEST, arena.allocate(1000));
                assertEquals(Kind.BAD_CHECKSUM, assertInstanceOf(Failed.class, fetch).kind());
            }
            assertEquals(2, peer.connections(), "a connection with a bad block is closed");
        }
    }

    @Test
    void bytesWithAMatchingChecksumButAnotherDigestAreBadDigestAndTheRightDigestIsFetched() throws IOException {
        byte[] zeros = new byte[1000];
        try (FakePeer peer = new FakePeer(request -> response("HTTP/1.1 200 OK\r\n"
                + "Content-Length: 1000\r\nX-CacheFS-CRC32C: " + crcOf(zeros, 0), zeros))) {
            int trueDigest = (int) Long.parseLong(crcOf(BODY, 0), 16);
            PeerFetch lie = client.fetch(peer.address(), REQUEST, arena.allocate(1000), java.util.OptionalInt.of(trueDigest));
            assertEquals(Kind.BAD_DIGEST, assertInstanceOf(Failed.class, lie).kind());
            int zerosDigest = (int) Long.parseLong(crcOf(zeros, 0), 16);
            assertEquals(new Fetched(1000), client.fetch(peer.address(), REQUEST, arena.allocate(1000),
                    java.util.OptionalInt.of(zerosDigest)));
            assertEquals(new Fetched(1000), client.fetch(peer.address(), REQUEST, arena.allocate(1000)),
                    "without a digest, the checksum is all there is to check");
        }
    }

    @Test
    void aBodyThatTricklesPastTheLoadTimeoutTimesOutThoughNeverSilent() throws IOException {
        // 1000 bytes, 50 at a time every 100 ms: about 2 s, never silent for the 500 ms silence
        try (FakePeer peer = new FakePeer(request -> response("HTTP/1.1 200 OK\r\n"
                        + "Content-Length: 1000\r\nX-CacheFS-CRC32C: " + crcOf(BODY, 0), BODY), 50, 100);
                PeerClient bounded = new PeerClient(PeerToken.from(TOKEN), TIMEOUT, TIMEOUT, Duration.ofMillis(1000))) {
            PeerFetch fetch = bounded.fetch(peer.address(), REQUEST, arena.allocate(1000));
            Failed failed = assertInstanceOf(Failed.class, fetch);
            assertEquals(Kind.TIMEOUT, failed.kind());
            assertTrue(failed.reason().endsWith("within 1000 ms"), "the body's limit ran out: " + failed.reason());
        }
        try (FakePeer peer = new FakePeer(request -> response("HTTP/1.1 200 OK\r\n"
                        + "Content-Length: 1000\r\nX-CacheFS-CRC32C: " + crcOf(BODY, 0), BODY), 250, 100);
                PeerClient bounded = new PeerClient(PeerToken.from(TOKEN), TIMEOUT, TIMEOUT, Duration.ofMillis(1000))) {
            assertEquals(new Fetched(1000), bounded.fetch(peer.address(), REQUEST, arena.allocate(1000)),
                    "a slow body that ends within the limit is fetched");
        }
    }

    @Test
    void aGoodAnswerFromAnyServerIsFetchedAndVerified() throws IOException {
        try (FakePeer peer = new FakePeer(request -> response("HTTP/1.1 200 OK\r\n"
                + "Content-Length: 1000\r\nX-CacheFS-CRC32C: " + crcOf(BODY, 0), BODY))) {
            MemorySegment dst = arena.allocate(1000);
            assertEquals(new Fetched(1000), client.fetch(peer.address(), REQUEST, dst));
            assertArrayEquals(BODY, dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void aBodyOfTheWrongLengthIsABadResponse() throws IOException {
        String crc = crcOf(BODY, 0);
        byte[] shortBody = BlockServerTest.slice(BODY, 0, 600);
        for (FakePeer peer : new FakePeer[] {
                // declares a length other than the block's
                new FakePeer(r -> response("HTTP/1.1 200 OK\r\nContent-Length: 600\r\n"
                        + "X-CacheFS-CRC32C: " + crc, shortBody)),
                // chunked instead of a length
                new FakePeer(r -> response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                        + "X-CacheFS-CRC32C: " + crc, "3e8\r\n".getBytes())),
                // no checksum header
                new FakePeer(r -> response("HTTP/1.1 200 OK\r\nContent-Length: 1000", BODY)),
                // not HTTP
                new FakePeer(r -> "SSH-2.0-OpenSSH_9.6\r\n\r\n".getBytes())}) {
            try (peer) {
                PeerFetch fetch = client.fetch(peer.address(), REQUEST, arena.allocate(1000));
                assertInstanceOf(Failed.class, fetch);
                Kind kind = ((Failed) fetch).kind();
                assertTrue(kind == Kind.BAD_RESPONSE || kind == Kind.ERROR, fetch.toString());
            }
        }
        // declares the right length, sends less and closes
        try (ServerSocket server = new ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (var socket = server.accept()) {
                    socket.getInputStream().read(new byte[4096]);
                    socket.getOutputStream().write(response("HTTP/1.1 200 OK\r\n"
                            + "Content-Length: 1000\r\nX-CacheFS-CRC32C: " + crc, shortBody));
                } catch (IOException ignored) {
                    // the test sees the outcome
                }
            });
            PeerFetch fetch = client.fetch((InetSocketAddress) server.getLocalSocketAddress(),
                    REQUEST, arena.allocate(1000));
            assertEquals(Kind.BAD_RESPONSE, assertInstanceOf(Failed.class, fetch).kind());
        }
    }

    @Test
    void errorStatusesBecomeOutcomes() throws IOException {
        try (FakePeer peer = new FakePeer(request -> {
            String status = request.contains("/v1/blocks/0") ? "503 Service Unavailable"
                    : "500 Internal Server Error";
            return response("HTTP/1.1 " + status + "\r\nContent-Length: 12", "load failed\n".getBytes());
        })) {
            PeerFetch fetch = client.fetch(peer.address(), REQUEST, arena.allocate(1000));
            Failed failed = assertInstanceOf(Failed.class, fetch);
            assertEquals(Kind.ERROR, failed.kind());
            assertTrue(failed.reason().contains("503") && failed.reason().contains("load failed"),
                    failed.reason());
        }
    }

    @Test
    void aPeerThatNeverAnswersTimesOutWithinTheTimeout() throws IOException {
        try (FakePeer peer = new FakePeer(request -> null)) {
            long start = System.nanoTime();
            PeerFetch fetch = client.fetch(peer.address(), REQUEST, arena.allocate(1000));
            long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();

            assertEquals(Kind.TIMEOUT, assertInstanceOf(Failed.class, fetch).kind());
            assertTrue(millis >= TIMEOUT.toMillis() - 50 && millis < TIMEOUT.toMillis() + 1000,
                    "took " + millis + " ms");
        }
    }

    @Test
    void aClosedPortIsRefusedFast() throws IOException {
        InetSocketAddress closed;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = (InetSocketAddress) socket.getLocalSocketAddress();
        }
        long start = System.nanoTime();
        PeerFetch fetch = client.fetch(closed, REQUEST, arena.allocate(1000));

        assertEquals(Kind.REFUSED, assertInstanceOf(Failed.class, fetch).kind());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 400);
    }

    @Test
    void aDestinationOfTheWrongSizeIsAProgrammingError() {
        assertThrows(IllegalArgumentException.class,
                () -> client.fetch(loopback(), REQUEST, arena.allocate(999)));
    }

    private static String crcOf(byte[] bytes, int tweak) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return String.format("%08x", (crc.getValue() + tweak) & 0xffffffffL);
    }
}
