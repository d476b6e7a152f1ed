package io.cachefs.cli;

import io.cachefs.LoopbackPort;
import io.cachefs.fuse.SourceMount;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer group of real daemons: separate JVMs on 127.0.0.1-4, each with its own mount, block
 * server and admin port, sharing one source. The source counts every byte read from it (a FUSE
 * mount with direct I/O), independently of what the daemons report.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PeerGroupTest {
    private static final long MIB = 1 << 20;
    private static final long BIG = 1024 * MIB;
    private static final long COLD = 256 * MIB;
    private static final String TOKEN = "s3cret-token-for-tests";

    private ScratchDir scratch;
    private SourceMount source;
    private Path groupFile;
    private Path tokenFile;
    private final List<Member> members = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    /** One daemon of the group. */
    private record Member(String host, int peerPort, int adminPort, Path mount, DaemonProcess daemon) {
        String peer() {
            return host + ":" + peerPort;
        }
    }

    @BeforeAll
    void startGroup() throws Exception {
        scratch = new ScratchDir();
        source = SourceMount.start();
        source.addRandomFile("big.safetensors", BIG, 1);
        source.addRandomFile("cold.safetensors", COLD, 2);
        source.addRandomFile("third.bin", 200 * MIB, 3);
        source.addRandomFile("fourth.bin", 64 * MIB, 4);
        tokenFile = scratch.text("token", TOKEN + "\n");
        groupFile = scratch.resolve("group");
        List<String> peers = new ArrayList<>();
        List<int[]> ports = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            int[] pair = {LoopbackPort.free(), LoopbackPort.free()};
            ports.add(pair);
            peers.add("127.0.0." + n + ":" + pair[0]);
        }
        Files.writeString(groupFile, String.join("\n", peers) + "\n");
        for (int n = 1; n <= 3; n++) {
            members.add(start(n, ports.get(n - 1)[0], ports.get(n - 1)[1]));
        }
        for (Member member : members) {
            member.daemon().awaitMounted(Duration.ofSeconds(30));
        }
    }

    @AfterAll
    void stopGroup() throws Exception {
        try {
            for (Member member : members) {
                member.daemon().close();
            }
        } finally {
            try {
                source.close();
            } finally {
                scratch.close();
                http.close();
            }
        }
    }

    private Member start(int n, int peerPort, int adminPort) throws IOException {
        String host = "127.0.0." + n;
        Path mount = scratch.dir("mount-" + n);
        DaemonProcess daemon = DaemonProcess.start(scratch, mount, "mount", "--source", source.dir().toString(),
                "--mount", mount.toString(), "--capacity", "2G", "--listen", host + ":" + peerPort,
                "--peers", "file:" + groupFile, "--peer-token-file", tokenFile.toString(),
                "--admin", host + ":" + adminPort, "--no-passthrough", "--kernel-cache", "off");
        return new Member(host, peerPort, adminPort, mount, daemon);
    }


    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) MIB);
        try (FileChannel channel = FileChannel.open(file)) {
            while (channel.read(buffer.clear()) >= 0) {
                digest.update(buffer.flip());
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private String expected(String file) throws Exception {
        return source.sha256(file);
    }

    private double metric(Member member, String name, String labels) throws Exception {
        String text = http.send(HttpRequest.newBuilder(URI.create("http://" + member.host() + ":" + member.adminPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return MetricsText.sum(text, name, labels);
    }

    @Test
    @Order(1)
    void aFileReadByOneMemberIsReadByTheOthersWithNoSourceBytes() throws Exception {
        String expected = expected("big.safetensors");
        Member a = members.get(0);
        long before = source.bytesRead();
        assertEquals(expected, sha256(a.mount().resolve("big.safetensors")));
        assertEquals(BIG, source.bytesRead() - before, "the group reads each block from the source once");
        for (Member other : members.subList(1, 3)) {
            assertEquals(expected, sha256(other.mount().resolve("big.safetensors")));
        }
        assertEquals(BIG, source.bytesRead() - before, "B and C read nothing from the source");
        double groupSourceBytes = 0;
        for (Member member : members) {
            groupSourceBytes += metric(member, "cachefs_source_read_bytes_total", "");
        }
        assertEquals(BIG, (long) groupSourceBytes, "the daemons' own count agrees");
        assertTrue(metric(members.get(1), "cachefs_read_bytes_total", "tier=\"peer\"") > 0);
        for (Member other : members.subList(1, 3)) {
            assertEquals(0, metric(other, "cachefs_read_bytes_total", "tier=\"source\""),
                    "blocks B and C loaded for A were A's source reads, not theirs");
        }
        assertTrue(metric(members.get(0), "cachefs_peer_served_bytes_total", "") > 0);
    }

    @Test
    @Order(2)
    void threeMembersReadingAColdFileTogetherReadTheSourceAboutOnce() throws Exception {
        String expected = expected("cold.safetensors");
        long before = source.bytesRead();
        ExecutorService readers = Executors.newFixedThreadPool(3);
        try {
            List<Future<String>> sums = new ArrayList<>();
            for (Member member : members) {
                sums.add(readers.submit(() -> sha256(member.mount().resolve("cold.safetensors"))));
            }
            for (Future<String> sum : sums) {
                assertEquals(expected, sum.get());
            }
        } finally {
            readers.shutdownNow();
        }
        long read = source.bytesRead() - before;
        assertTrue(read >= COLD && read <= COLD * 105 / 100, "source bytes " + read + " for a " + COLD + "-byte file");
    }

    @Test
    @Order(3)
    void aMemberStartedLaterWarmsFromItsPeersWithNoSourceBytes() throws Exception {
        int peerPort = LoopbackPort.free();
        Files.writeString(groupFile, "127.0.0.4:" + peerPort + "\n", StandardOpenOption.APPEND);
        Member d = start(4, peerPort, LoopbackPort.free());
        members.add(d);
        d.daemon().awaitMounted(Duration.ofSeconds(30));
        long before = source.bytesRead();
        assertEquals(expected("big.safetensors"), sha256(d.mount().resolve("big.safetensors")));
        assertEquals(expected("cold.safetensors"), sha256(d.mount().resolve("cold.safetensors")));
        assertEquals(0, source.bytesRead() - before, "scale-out reads nothing from the source");
        assertEquals(BIG + COLD, (long) metric(d, "cachefs_read_bytes_total", "tier=\"peer\""));
    }

    @Test
    @Order(4)
    void aPeerKilledMidReadCostsTheReaderNothingButTime() throws Exception {
        String expected = expected("third.bin");
        Member a = members.get(0);
        assertEquals(expected, sha256(a.mount().resolve("third.bin"))); // spread over the owners' memory
        Member reader = members.get(3);
        Member victim = members.get(1);
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) MIB);
        try (FileChannel channel = FileChannel.open(reader.mount().resolve("third.bin"))) {
            long offset = 0;
            while (channel.read(buffer.clear(), offset) > 0) {
                offset += buffer.position();
                digest.update(buffer.flip());
                if (offset == 40 * MIB) {
                    victim.daemon().kill(); // SIGKILL, in the middle of the read
                }
            }
        }
        assertEquals(expected, HexFormat.of().formatHex(digest.digest()));
    }

    @Test
    @Order(5)
    void requestsWithoutTheTokenOrEscapingTheSourceGetNoData() throws Exception {
        Member a = members.get(0);
        String base = "http://" + a.peer() + "/v1/blocks/0?size=" + (64 * MIB) + "&mtime=1&block_size=" + (4 * MIB)
                + "&mode=memory&path=";
        assertEquals(401, status(base + "fourth.bin", null));
        assertEquals(401, status(base + "fourth.bin", "Bearer " + TOKEN), "the secret itself is no signature");
        assertEquals(401, status(base + "fourth.bin", signed(base + "fourth.bin", "wrong-token")));
        assertEquals(404, status(base + "fourth.bin", signed(base + "fourth.bin", TOKEN)),
                "a valid path at a version the peer lacks");
        for (String escape : List.of("../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", "a/../../x",
                "..%2fx", "x%00y")) {
            // 403, not the 404 a valid path with a made-up version gets: refused for the path itself
            assertEquals(403, status(base + escape, signed(base + escape, TOKEN)), escape);
        }
    }

    @Test
    @Order(6)
    void aPeerAnsweringBadChecksumsIsNotBelieved() throws Exception {
        com.sun.net.httpserver.HttpServer liar = com.sun.net.httpserver.HttpServer.create(
                new InetSocketAddress("127.0.0.9", 0), 16);
        liar.createContext("/", exchange -> { // every block "found", as zeros with a made-up checksum
            var query = new io.netty.handler.codec.http.QueryStringDecoder(exchange.getRequestURI().toString());
            long index = Long.parseLong(query.path().substring(query.path().lastIndexOf('/') + 1));
            long size = Long.parseLong(query.parameters().get("size").getFirst());
            long blockSize = Long.parseLong(query.parameters().get("block_size").getFirst());
            int length = (int) Math.min(blockSize, size - index * blockSize);
            exchange.getResponseHeaders().set("X-CacheFS-CRC32C", "0badc0de");
            exchange.sendResponseHeaders(200, length);
            try (var body = exchange.getResponseBody()) {
                body.write(new byte[length]);
            }
        });
        liar.start();
        try {
            int peerPort = LoopbackPort.free();
            Path groupWithLiar = scratch.text("group-with-liar", "127.0.0.1:" + members.get(0).peerPort() + "\n"
                    + "127.0.0.9:" + liar.getAddress().getPort() + "\n127.0.0.5:" + peerPort + "\n");
            Path mount = scratch.dir("mount-5");
            int adminPort = LoopbackPort.free();
            try (DaemonProcess e = DaemonProcess.start(scratch, mount, "mount", "--source", source.dir().toString(),
                    "--mount", mount.toString(), "--capacity", "1G", "--listen", "127.0.0.5:" + peerPort,
                    "--peers", "file:" + groupWithLiar, "--peer-token-file", tokenFile.toString(),
                    "--admin", "127.0.0.5:" + adminPort).awaitMounted(Duration.ofSeconds(30))) {
                Member member = new Member("127.0.0.5", peerPort, adminPort, mount, e);
                assertEquals(expected("fourth.bin"), sha256(mount.resolve("fourth.bin")));
                assertTrue(metric(member, "cachefs_peer_requests_total", "result=\"bad_checksum\"") > 0,
                        "the liar was asked and caught");
            }
        } finally {
            liar.stop(0);
        }
    }

    /** The Authorization a member with {@code secret} sends for {@code url}. */
    private static String signed(String url, String secret) {
        URI uri = URI.create(url);
        return io.cachefs.peer.PeerToken.from(secret).authorization("GET", uri.getRawPath() + "?" + uri.getRawQuery());
    }

    private int status(String uri, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            assertTrue(response.body().length < 1000, "an error carries no block data");
        }
        return response.statusCode();
    }
}
