package io.cachefs.peer;

import static io.cachefs.peer.BlockServerTest.BLOCK;
import static io.cachefs.peer.BlockServerTest.TOKEN;
import static io.cachefs.peer.BlockServerTest.loopback;
import static io.cachefs.peer.BlockServerTest.randomBytes;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.config.PeerTlsFiles;
import io.cachefs.peer.BlockRequest.Mode;
import io.cachefs.peer.PeerFetch.Failed;
import io.cachefs.peer.PeerFetch.Fetched;
import io.cachefs.peer.PeerFetch.Kind;
import io.cachefs.peer.TestCertificates.Pem;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS on the peer wire, on real sockets with certificates made by openssl: members of one
 * group fetch exact bytes; a client with another CA's certificate, or none, is refused before it
 * can send a request; plain and TLS members never exchange bytes and say why; a trickled handshake
 * is closed at the request deadline, and a stalled one is aborted by the client's watchdog.
 */
class PeerTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);

    @TempDir
    Path dir;
    private byte[] model;
    private SourceBlocks blocks;
    private FileVersion file;
    private Pem group;
    private PeerTls tls;
    private Arena arena;

    @BeforeEach
    void setUp() throws IOException {
        model = randomBytes(5 * BLOCK + 1000, 11);
        Path source = Files.createDirectories(dir.resolve("source"));
        Files.write(source.resolve("model.bin"), model);
        blocks = new SourceBlocks(source, BLOCK);
        file = blocks.version("model.bin");
        group = TestCertificates.selfSigned(dir, "group");
        tls = PeerTls.load(new PeerTlsFiles(group.cert(), group.key(), null));
        arena = Arena.ofShared();
    }

    @AfterEach
    void tearDown() {
        blocks.close();
        arena.close();
    }

    private BlockServer serve(PeerTls with, Duration requestDeadline) throws IOException {
        return BlockServer.start(loopback(), blocks, PeerToken.from(TOKEN), with,
                new BlockServer.Limits(Duration.ofSeconds(30), requestDeadline, 8, 16));
    }

    private static PeerClient client(PeerTls with) {
        return new PeerClient(PeerToken.from(TOKEN), with, TIMEOUT, TIMEOUT, TIMEOUT);
    }

    private PeerFetch fetch(PeerClient client, BlockServer server, long index) {
        BlockRequest request = new BlockRequest(file, index, BLOCK, Mode.LOAD);
        return client.fetch(server.address(), request, arena.allocate(request.length()));
    }

    private static void await(BlockServer server, Predicate<BlockServerStats> done) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!done.test(server.stats()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void membersOfOneGroupFetchExactBytesOverOneTlsConnection() throws Exception {
        try (BlockServer server = serve(tls, Duration.ofSeconds(5)); PeerClient client = client(tls)) {
            for (long index = 0; index < 6; index++) {
                BlockRequest request = new BlockRequest(file, index, BLOCK, Mode.LOAD);
                MemorySegment dst = arena.allocate(request.length());
                assertEquals(new Fetched(request.length()), client.fetch(server.address(), request, dst));
                assertArrayEquals(BlockServerTest.slice(model, index * BLOCK, request.length()),
                        dst.toArray(ValueLayout.JAVA_BYTE), "block " + index);
            }
            BlockServerTest.awaitServed(server, 6);
            assertEquals(1, server.stats().connections(), "one handshake, then keep-alive");
            assertEquals(0, server.stats().portEvents().get(PortEvent.TLS_REFUSED));
        }
    }

    @Test
    void membersWithCertificatesOfOneGroupCaTrustEachOther() throws Exception {
        Pem ca = TestCertificates.selfSigned(dir, "group-ca");
        Pem first = TestCertificates.issuedBy(ca, dir, "member-1");
        Pem second = TestCertificates.issuedBy(ca, dir, "member-2");
        PeerTls serverSide = PeerTls.load(new PeerTlsFiles(first.cert(), first.key(), ca.cert()));
        PeerTls clientSide = PeerTls.load(new PeerTlsFiles(second.cert(), second.key(), ca.cert()));
        try (BlockServer server = serve(serverSide, Duration.ofSeconds(5)); PeerClient client = client(clientSide)) {
            assertEquals(new Fetched(BLOCK), fetch(client, server, 0));
        }
    }

    /** Writes a correctly signed request, as a member would, and reads the status line's start, if any comes. */
    private static byte[] signedRequestAnswer(Socket socket) throws IOException {
        String uri = new BlockRequest(new FileVersion("model.bin", 1, 1), 0, BLOCK, Mode.LOAD).uri();
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + uri + " HTTP/1.1\r\nHost: x\r\nAuthorization: "
                + PeerToken.from(TOKEN).authorization("GET", uri) + "\r\n\r\n").getBytes(ISO_8859_1));
        out.flush();
        return socket.getInputStream().readNBytes(12); // "HTTP/1.1 200", if it were served
    }

    private void assertRefusedAtTheSocket(SSLContext context, BlockServer server) throws Exception {
        int loadsBefore = blocks.loadRequests.get();
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            socket.connect(server.address(), 2000);
            socket.setSoTimeout(5000);
            // TLS 1.3: the client's side of the handshake completes before the server checks its
            // certificate; the refusal comes as an alert (or a reset, if the server closed first)
            // instead of the answer
            byte[] answer;
            try {
                answer = signedRequestAnswer(socket);
            } catch (SocketTimeoutException open) {
                throw new AssertionError("the server neither answered nor refused the client", open);
            } catch (IOException refused) {
                answer = new byte[0];
            }
            assertEquals(0, answer.length, "no answer for a client outside the group: "
                    + new String(answer, ISO_8859_1));
        }
        await(server, s -> s.portEvents().get(PortEvent.TLS_REFUSED) > 0);
        assertEquals(1, server.stats().portEvents().get(PortEvent.TLS_REFUSED), "the refusal is counted");
        assertEquals(loadsBefore, blocks.loadRequests.get(), "no request reached the blocks");
        assertEquals(0, server.stats().served());
    }

    @Test
    void aClientWithACertificateFromAnotherCaIsRefusedBeforeItsRequest() throws Exception {
        Pem foreign = TestCertificates.selfSigned(dir, "another-group");
        // it trusts the group's certificate, so only the server's check can stop it
        SSLContext stranger = TestCertificates.jdkContext(foreign, group.cert(), dir);
        try (BlockServer server = serve(tls, Duration.ofSeconds(5))) {
            assertRefusedAtTheSocket(stranger, server);
        }
    }

    @Test
    void aClientWithoutACertificateIsRefusedBeforeItsRequest() throws Exception {
        SSLContext anonymous = TestCertificates.jdkContext(null, group.cert(), dir);
        try (BlockServer server = serve(tls, Duration.ofSeconds(5))) {
            assertRefusedAtTheSocket(anonymous, server);
        }
    }

    @Test
    void aClientWithTheGroupCertificateIsServedByTheJdksOwnTls() throws Exception {
        SSLContext member = TestCertificates.jdkContext(group, group.cert(), dir);
        try (BlockServer server = serve(tls, Duration.ofSeconds(5));
                SSLSocket socket = (SSLSocket) member.getSocketFactory().createSocket()) {
            socket.connect(server.address(), 2000);
            socket.setSoTimeout(5000);
            String uri = new BlockRequest(file, 0, BLOCK, Mode.LOAD).uri();
            socket.getOutputStream().write(("GET " + uri + " HTTP/1.1\r\nHost: x\r\nAuthorization: "
                    + PeerToken.from(TOKEN).authorization("GET", uri) + "\r\n\r\n").getBytes(ISO_8859_1));
            String status = new String(socket.getInputStream().readNBytes(12), ISO_8859_1);
            assertEquals("HTTP/1.1 200", status, "the same check that refuses strangers lets a member in");
        }
    }

    @Test
    void aPlainMemberAskingATlsPortIsToldWhyAndGetsNoBytes() throws Exception {
        try (BlockServer server = serve(tls, Duration.ofSeconds(5)); PeerClient plain = client(null)) {
            Failed failed = assertInstanceOf(Failed.class, fetch(plain, server, 0));
            assertEquals(Kind.TLS_HANDSHAKE, failed.kind());
            assertTrue(failed.reason().contains("are all members started with --peer-tls-*?"), failed.reason());
            await(server, s -> s.portEvents().get(PortEvent.TLS_REFUSED) > 0);
            assertEquals(1, server.stats().portEvents().get(PortEvent.TLS_REFUSED));
            assertEquals(0, server.stats().served());
        }
    }

    @Test
    void aTlsMemberAskingAPlainPortGetsAHandshakeFailure() throws Exception {
        try (BlockServer server = serve(null, Duration.ofSeconds(5)); PeerClient client = client(tls)) {
            Failed failed = assertInstanceOf(Failed.class, fetch(client, server, 0));
            assertEquals(Kind.TLS_HANDSHAKE, failed.kind(), failed.reason());
            assertTrue(failed.reason().contains("did not complete a TLS handshake"), failed.reason());
            assertTrue(failed.reason().contains("are all members started with --peer-tls-*?"), failed.reason());
            await(server, s -> s.portEvents().get(PortEvent.TLS_REFUSED) > 0);
            assertEquals(1, server.stats().portEvents().get(PortEvent.TLS_REFUSED), "the plain port counts the handshake it closed");
            assertEquals(0, server.stats().served());
        }
    }

    @Test
    void aTlsMemberRefusesAServerWithAForeignCertificate() throws Exception {
        Pem foreign = TestCertificates.selfSigned(dir, "another-group");
        PeerTls other = PeerTls.load(new PeerTlsFiles(foreign.cert(), foreign.key(), null));
        try (BlockServer server = serve(other, Duration.ofSeconds(5)); PeerClient client = client(tls)) {
            Failed failed = assertInstanceOf(Failed.class, fetch(client, server, 0));
            assertEquals(Kind.TLS_HANDSHAKE, failed.kind(), failed.reason());
            assertEquals(0, server.stats().served());
        }
    }

    @Test
    void aHandshakeTrickledByteByByteIsClosedAtTheRequestDeadline() throws Exception {
        Duration deadline = Duration.ofMillis(800);
        try (BlockServer server = serve(tls, deadline); Socket socket = new Socket()) {
            socket.connect(server.address(), 2000);
            socket.setSoTimeout(200);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00}); // a handshake record of 512 bytes, announced
            long start = System.nanoTime();
            boolean closed = false;
            while (!closed && System.nanoTime() - start < 5_000_000_000L) {
                try {
                    out.write(0x01); // one byte of it every 200 ms: never whole within the deadline
                    closed = in.read() < 0;
                } catch (SocketTimeoutException stillOpen) {
                    // nothing yet: trickle on
                } catch (SocketException reset) {
                    closed = true;
                }
            }
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(closed, "the trickled handshake was never closed");
            assertTrue(tookMillis < 3_000, "closed after " + tookMillis + " ms, the deadline is " + deadline);
            await(server, s -> s.portEvents().get(PortEvent.REQUEST_TIMEOUT) > 0);
            assertEquals(1, server.stats().portEvents().get(PortEvent.REQUEST_TIMEOUT), "counted like a slow request");
            assertEquals(0, server.stats().portEvents().get(PortEvent.TLS_REFUSED), "a deadline is not a refused certificate");
        }
    }

    @Test
    void aPeerThatNeverAnswersTheHandshakeCostsOneShortTimeout() throws Exception {
        // a listening socket nobody accepts on: the kernel completes the connect, nothing ever answers
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
                PeerClient client = client(tls)) {
            long start = System.nanoTime();
            PeerFetch fetch = client.fetch((InetSocketAddress) silent.getLocalSocketAddress(),
                    new BlockRequest(file, 0, BLOCK, Mode.LOAD), arena.allocate(BLOCK));
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Kind.TIMEOUT, assertInstanceOf(Failed.class, fetch).kind(), fetch.toString());
            assertTrue(tookMillis < 5_000, "a stalled handshake held the loader " + tookMillis + " ms");
        }
    }

    @Test
    void aTlsPeerThatStallsAfterTheHandshakeIsAbortedByTheWatchdog() throws Exception {
        SSLContext member = TestCertificates.jdkContext(group, group.cert(), dir);
        try (SSLServerSocket server = (SSLServerSocket) member.getServerSocketFactory()
                .createServerSocket(0, 8, InetAddress.getLoopbackAddress());
                PeerClient client = client(tls)) {
            server.setNeedClientAuth(true);
            Thread stall = Thread.ofVirtual().start(() -> {
                try (Socket socket = server.accept()) {
                    socket.getInputStream().read(); // the handshake and the request's first byte; then silence
                    Thread.sleep(10_000);
                } catch (IOException | InterruptedException e) {
                    // the test is over
                }
            });
            long start = System.nanoTime();
            PeerFetch fetch = client.fetch((InetSocketAddress) server.getLocalSocketAddress(),
                    new BlockRequest(file, 0, BLOCK, Mode.LOAD), arena.allocate(BLOCK));
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(Kind.TIMEOUT, assertInstanceOf(Failed.class, fetch).kind(), fetch.toString());
            assertTrue(tookMillis < 5_000, "a stalled TLS answer held the loader " + tookMillis + " ms");
            stall.interrupt();
            stall.join();
        }
    }
}
