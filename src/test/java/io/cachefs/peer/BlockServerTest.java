package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block server over real sockets, a real cache and a real source directory. */
class BlockServerTest {

    /** Small blocks keep the tests light; the wire does not care about the size. */
    static final int BLOCK = 64 * 1024;
    static final String TOKEN = "s3cret-token";
    /** The signed Authorization of a request for {@code uri}, as a member sends it. */
    static String signed(String method, String uri) {
        return PeerToken.from(TOKEN).authorization(method, uri);
    }

    @TempDir
    Path dir;
    Path root;
    Path outside;
    byte[] model;
    SourceBlocks blocks;
    BlockServer server;
    PeerClient client;
    Arena arena;

    @BeforeEach
    void start() throws IOException {
        root = Files.createDirectories(dir.resolve("source"));
        outside = Files.createDirectories(dir.resolve("outside"));
        model = randomBytes(3 * BLOCK + 1000, 1);
        Files.createDirectories(root.resolve("models"));
        Files.write(root.resolve("models/a b+c.bin"), model);
        blocks = new SourceBlocks(root, BLOCK);
        server = BlockServer.start(loopback(), blocks, PeerToken.from(TOKEN),
                Duration.ofSeconds(5));
        client = new PeerClient(PeerToken.from(TOKEN), Duration.ofSeconds(1),
                Duration.ofSeconds(5));
        arena = Arena.ofShared();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            client.close();
            server.close();
            assertEquals(0, blocks.openLeases.get(), "leases left pinned by the server");
        } finally {
            blocks.close();
            arena.close();
        }
    }

    // ---- Serving ---------------------------------------------------------------------------

    @Test
    void fetchFromMemoryReturnsTheExactBytesWithAVerifiedChecksum() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        for (long index = 0; index < 4; index++) {
            blocks.load(file, index).close();
        }
        int readsBefore = blocks.sourceReads.get();

        for (long index = 0; index < 4; index++) {
            BlockRequest request = new BlockRequest(file, index, BLOCK, Mode.MEMORY);
            MemorySegment dst = arena.allocate(request.length());
            PeerFetch fetch = client.fetch(server.address(), request, dst);

            assertEquals(new Fetched(request.length()), fetch);
            assertArrayEquals(slice(model, index * BLOCK, request.length()),
                    dst.toArray(ValueLayout.JAVA_BYTE));
        }
        assertEquals(1000, new BlockRequest(file, 3, BLOCK, Mode.MEMORY).length());
        assertEquals(readsBefore, blocks.sourceReads.get(), "memory mode never reads the source");
        awaitServed(server, 4);
        assertEquals(model.length, server.servedBytes());
    }

    /**
     * The server counts a block once its write completed, which the client can see before the
     * server's listener has run.
     */
    static void awaitServed(BlockServer server, long served) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.stats().served() < served && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(served, server.stats().served());
    }

    @Test
    void responseCarriesLengthAndCrc32cOfTheBody() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        BlockRequest request = new BlockRequest(file, 1, BLOCK, Mode.LOAD);
        try (RawHttp http = new RawHttp(server.address())) {
            RawHttp.Response response = http.get(request.uri(), signed("GET", request.uri()));

            assertEquals(200, response.status());
            assertEquals(String.valueOf(BLOCK), response.headers().get("content-length"));
            CRC32C crc = new CRC32C();
            crc.update(response.body());
            assertEquals(String.format("%08x", crc.getValue()),
                    response.headers().get("x-cachefs-crc32c"));
            assertArrayEquals(slice(model, BLOCK, BLOCK), response.body());
        }
    }

    @Test
    void memoryModeAnswers404WhenTheBlockIsNotInMemoryAndLoadsNothing() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        BlockRequest request = new BlockRequest(file, 0, BLOCK, Mode.MEMORY);

        PeerFetch fetch = client.fetch(server.address(), request, arena.allocate(BLOCK));

        assertEquals(new PeerFetch.NotThere(), fetch);
        assertEquals(0, blocks.sourceReads.get());
        assertEquals(1, server.stats().notFound());
    }

    @Test
    void concurrentLoadRequestsForOneBlockReadTheSourceOnce() throws Exception {
        FileVersion file = blocks.version("models/a b+c.bin");
        BlockRequest request = new BlockRequest(file, 2, BLOCK, Mode.LOAD);
        blocks.holdLoads();
        List<Future<PeerFetch>> fetches = new ArrayList<>();
        List<MemorySegment> destinations = new ArrayList<>();
        try (ExecutorService requesters = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 6; i++) {
                MemorySegment dst = arena.allocate(BLOCK);
                destinations.add(dst);
                fetches.add(requesters.submit(() -> client.fetch(server.address(), request, dst)));
            }
            // every request is in, each waiting on the cache (a broken singleflight would have
            // sent each to the source by now): only then does the source answer
            waitUntil(() -> blocks.loadRequests.get() == 6);
            blocks.releaseLoads();
            for (Future<PeerFetch> fetch : fetches) {
                assertEquals(new Fetched(BLOCK), fetch.get());
            }
        }
        assertEquals(1, blocks.sourceReads.get(), "one source read for all requesters");
        for (MemorySegment dst : destinations) {
            assertArrayEquals(slice(model, 2L * BLOCK, BLOCK), dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    // ---- Refusals --------------------------------------------------------------------------

    @Test
    void aReplayedOrExpiredSignatureGets401AndIsCounted() throws IOException {
        String uri = new BlockRequest(blocks.version("models/a b+c.bin"), 0, BLOCK, Mode.LOAD).uri();
        PeerToken token = PeerToken.from(TOKEN);
        String once = token.authorization("GET", uri);
        try (RawHttp http = new RawHttp(server.address())) {
            assertEquals(200, http.get(uri, once).status());
            assertEquals(401, http.get(uri, once).status(), "the same signature again is a replay");
        }
        long now = System.currentTimeMillis() / 1000;
        assertEquals(PeerToken.Verdict.INVALID, token.check("GET", uri, once, now + PeerToken.WINDOW_SECONDS + 2),
                "a signature older than the window");
        assertEquals(1, server.stats().portEvents().get(PortEvent.REPLAY));
    }

    @Test
    void missingOrWrongTokenGets401AndNoData() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        String uri = new BlockRequest(file, 0, BLOCK, Mode.LOAD).uri();
        try (RawHttp http = new RawHttp(server.address())) {
            String fresh = signed("GET", uri);
            for (String authorization : new String[] {null, "Bearer wrong", "Bearer " + TOKEN, "Basic " + TOKEN,
                    TOKEN, PeerToken.from("other").authorization("GET", uri), signed("GET", uri + "&x=1"),
                    signed("POST", uri), fresh.replace("ts=", "ts=1"), withLastCharacterChanged(fresh)}) {
                RawHttp.Response response = http.get(uri, authorization);
                assertEquals(401, response.status(), String.valueOf(authorization));
                assertTrue(response.body().length < 100);
            }
        }
        try (PeerClient stranger = new PeerClient(PeerToken.from("other"), Duration.ofSeconds(1),
                Duration.ofSeconds(5))) {
            PeerFetch fetch = stranger.fetch(server.address(),
                    new BlockRequest(file, 0, BLOCK, Mode.LOAD), arena.allocate(BLOCK));
            assertInstanceOf(Failed.class, fetch);
            assertEquals(Kind.UNAUTHORIZED, ((Failed) fetch).kind());
        }
        assertEquals(0, blocks.sourceReads.get(), "nothing was loaded for unauthorized requests");
    }

    /** The signature with its last hex digit changed (to another digit: replacing it with a fixed one failed one run in 16). */
    private static String withLastCharacterChanged(String authorization) {
        char last = authorization.charAt(authorization.length() - 1);
        return authorization.substring(0, authorization.length() - 1) + (last == '0' ? '1' : '0');
    }

    @Test
    void pathEscapesGet4xxAndNeverBytes() throws IOException {
        byte[] secret = "top secret, outside the source\n".getBytes();
        Files.write(outside.resolve("secret"), secret);
        Files.createSymbolicLink(root.resolve("link"), outside.resolve("secret"));
        Files.createSymbolicLink(root.resolve("linkdir"), outside);
        String query = "&size=" + secret.length + "&mtime="
                + Files.getLastModifiedTime(outside.resolve("secret")).to(
                        java.util.concurrent.TimeUnit.NANOSECONDS)
                + "&block_size=" + BLOCK + "&mode=load";
        List<String> paths = List.of("../outside/secret", "%2e%2e/outside/secret",
                "%2E%2E%2Foutside%2Fsecret", "/etc/passwd", "%2Fetc%2Fpasswd",
                "models/../../outside/secret", "models/%2e%2e/%2e%2e/outside/secret",
                "..%5Coutside%5Csecret", "models%00/x", "./models/a", "models//a", "",
                "link", "linkdir/secret");
        try (RawHttp http = new RawHttp(server.address())) {
            for (String path : paths) {
                RawHttp.Response response = http.get("/v1/blocks/0?path=" + path + query, signed("GET", "/v1/blocks/0?path=" + path + query));
                assertTrue(response.status() >= 400 && response.status() < 500,
                        path + " got " + response.status());
                assertFalse(response.text().contains("top secret"), path);
                assertTrue(response.status() == 400 || response.status() == 403
                        || response.status() == 404, path + " got " + response.status());
            }
        }
        assertEquals(0, blocks.sourceReads.get(), "no escape reached the source");
    }

    @Test
    void anotherVersionOfTheFileIsNeverServed() throws IOException {
        FileVersion current = blocks.version("models/a b+c.bin");
        blocks.load(current, 0).close();
        FileVersion otherMtime = new FileVersion(current.path(), current.size(),
                current.mtimeNanos() + 1);
        FileVersion otherSize = new FileVersion(current.path(), current.size() + 1,
                current.mtimeNanos());

        for (FileVersion stale : List.of(otherMtime, otherSize)) {
            for (Mode mode : Mode.values()) {
                PeerFetch fetch = client.fetch(server.address(),
                        new BlockRequest(stale, 0, BLOCK, mode), arena.allocate(BLOCK));
                assertEquals(new PeerFetch.NotThere(), fetch, stale + " " + mode);
            }
        }
        // the file changes after its block was cached: the cached old version is not current
        Files.setLastModifiedTime(root.resolve(current.path()),
                FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        PeerFetch fetch = client.fetch(server.address(),
                new BlockRequest(current, 0, BLOCK, Mode.MEMORY), arena.allocate(BLOCK));
        assertEquals(new PeerFetch.NotThere(), fetch);
        assertEquals(1, blocks.sourceReads.get());
    }

    @Test
    void noSuchFileIs404() {
        FileVersion missing = new FileVersion("models/missing.bin", 10, 1);
        PeerFetch fetch = client.fetch(server.address(),
                new BlockRequest(missing, 0, BLOCK, Mode.LOAD), arena.allocate(10));
        assertEquals(new PeerFetch.NotThere(), fetch);
    }

    @Test
    void anotherBlockSizeIsAConflict() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        BlockRequest request = new BlockRequest(file, 0, 2 * BLOCK, Mode.LOAD);

        PeerFetch fetch = client.fetch(server.address(), request, arena.allocate(2 * BLOCK));

        assertEquals(Kind.CONFLICT, assertInstanceOf(Failed.class, fetch).kind());
        assertEquals(0, blocks.sourceReads.get());
    }

    @Test
    void malformedRequestsGet4xxAndTheConnectionStillServes() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        String good = "path=models%2Fa+b%2Bc.bin&size=" + file.size() + "&mtime="
                + file.mtimeNanos() + "&tag=" + file.tag() + "&block_size=" + BLOCK + "&mode=load";
        List<String> bad = List.of(
                "/v1/blocks/x?" + good,
                "/v1/blocks/-1?" + good,
                "/v1/blocks/4?" + good, // past the end of the file
                "/v1/blocks/99999999999999999999?" + good,
                "/v1/blocks/?" + good,
                "/v1/blocks/0?" + good.replace("size=", "size=-"),
                "/v1/blocks/0?" + good.replace("size=", "size=+"),
                "/v1/blocks/0?" + good.replace("mtime=", "mtime=1e"),
                "/v1/blocks/0?" + good.replace("block_size=" + BLOCK, "block_size=0"),
                "/v1/blocks/0?" + good.replace("mode=load", "mode=fetch"),
                "/v1/blocks/0?" + good.replace("&mode=load", ""),
                "/v1/blocks/0?" + good.replace("path=", "nopath="),
                "/v1/blocks/0?" + good + "&size=1",
                "/v1/blocks/0?" + good.replace("path=models", "path=%zz"),
                "/v1/other");
        try (RawHttp http = new RawHttp(server.address())) {
            for (String uri : bad) {
                RawHttp.Response response = http.get(uri, signed("GET", uri));
                assertTrue(response.status() == 400 || response.status() == 404,
                        uri + " got " + response.status());
                assertTrue(response.text().endsWith("\n") && response.text().lines().count() == 1,
                        "one line: " + response.text());
            }
            http.send("POST /v1/blocks/0?" + good + " HTTP/1.1\r\nHost: p\r\nAuthorization: "
                    + signed("POST", "/v1/blocks/0?" + good) + "\r\nContent-Length: 3\r\n\r\nabc");
            RawHttp.Response post = http.read();
            assertEquals(405, post.status());
            assertEquals("GET", post.headers().get("allow"));

            RawHttp.Response ok = http.get("/v1/blocks/0?" + good, signed("GET", "/v1/blocks/0?" + good));
            assertEquals(200, ok.status());
            assertArrayEquals(slice(model, 0, BLOCK), ok.body());
        }
        assertEquals(1, server.stats().connections());
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        StringBuilder requests = new StringBuilder();
        for (long index : new long[] {3, 0, 2}) {
            requests.append("GET ").append(new BlockRequest(file, index, BLOCK, Mode.LOAD).uri())
                    .append(" HTTP/1.1\r\nHost: p\r\nAuthorization: ")
                    .append(signed("GET", new BlockRequest(file, index, BLOCK, Mode.LOAD).uri()))
                    .append("\r\n\r\n");
        }
        try (RawHttp http = new RawHttp(server.address())) {
            http.send(requests.toString());
            assertArrayEquals(slice(model, 3L * BLOCK, 1000), http.read().body());
            assertArrayEquals(slice(model, 0, BLOCK), http.read().body());
            assertArrayEquals(slice(model, 2L * BLOCK, BLOCK), http.read().body());
        }
    }

    @Test
    void garbageBytesGet400AndCloseWhileTheServerStaysFine() throws IOException {
        try (RawHttp http = new RawHttp(server.address())) {
            http.send("\u0016\u0003\u0001 \u00ff\u0000garbage HTTP/x\r\n\r\n");
            assertEquals(400, http.read().status());
            assertTrue(http.closedByServer());
        }
        try (RawHttp http = new RawHttp(server.address())) {
            http.send(randomBytes(64 * 1024, 7));
            assertEquals(400, http.read().status(), "random bytes");
            assertTrue(http.closedByServer());
        }
        try (RawHttp http = new RawHttp(server.address())) {
            http.send("GET /v1/blocks/0?path=" + "a".repeat(20_000) + " HTTP/1.1\r\n\r\n");
            assertEquals(400, http.read().status(), "an over-long request line");
            assertTrue(http.closedByServer());
        }
        assertFetchWorks();
    }

    @Test
    void aSlowClientWithHalfARequestLineDoesNotHoldUpOthers() throws IOException {
        try (RawHttp slow = new RawHttp(server.address())) {
            slow.send("GET /v1/blocks/0?pa");
            long start = System.nanoTime();
            assertFetchWorks();
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2000);
        }
    }

    @Test
    void idleConnectionsAreClosed() throws IOException {
        try (BlockServer quick = BlockServer.start(loopback(), blocks, PeerToken.from(TOKEN),
                Duration.ofMillis(300));
                RawHttp idle = new RawHttp(quick.address())) {
            idle.send("GET /v1/blo");
            long start = System.nanoTime();
            assertTrue(idle.closedByServer());
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 3000);
        }
    }

    @Test
    void aLoadThatFailsIs503() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        LocalBlocks failing = new LocalBlocks() {
            @Override
            public int blockSize() {
                return BLOCK;
            }

            @Override
            public io.cachefs.cache.BlockLease inMemory(FileVersion f, long index) {
                throw new IllegalStateException("bug");
            }

            @Override
            public io.cachefs.cache.BlockLease load(FileVersion f, long index)
                    throws IOException {
                throw new IOException("source unreachable");
            }
        };
        try (BlockServer broken = BlockServer.start(loopback(), failing, PeerToken.from(TOKEN));
                RawHttp http = new RawHttp(broken.address())) {
            RawHttp.Response load = http.get(new BlockRequest(file, 0, BLOCK, Mode.LOAD).uri(), signed("GET", new BlockRequest(file, 0, BLOCK, Mode.LOAD).uri()));
            assertEquals(503, load.status());
            RawHttp.Response memory = http.get(
                    new BlockRequest(file, 0, BLOCK, Mode.MEMORY).uri(), signed("GET", new BlockRequest(file, 0, BLOCK, Mode.MEMORY).uri()));
            assertEquals(500, memory.status());
            assertFalse(memory.text().contains("Exception"), "no stack trace: " + memory.text());
            assertEquals(2, broken.stats().failed());
        }
    }

    // ---- Helpers ---------------------------------------------------------------------------

    private void assertFetchWorks() throws IOException {
        FileVersion file = blocks.version("models/a b+c.bin");
        MemorySegment dst = arena.allocate(BLOCK);
        assertEquals(new Fetched(BLOCK), client.fetch(server.address(),
                new BlockRequest(file, 0, BLOCK, Mode.LOAD), dst));
        assertArrayEquals(slice(model, 0, BLOCK), dst.toArray(ValueLayout.JAVA_BYTE));
    }

    static InetSocketAddress loopback() {
        return new InetSocketAddress("127.0.0.1", 0);
    }

    static byte[] randomBytes(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] slice(byte[] bytes, long from, int length) {
        byte[] slice = new byte[length];
        System.arraycopy(bytes, (int) from, slice, 0, length);
        return slice;
    }

    static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(5);
        }
    }
}
