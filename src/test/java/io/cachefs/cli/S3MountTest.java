package io.cachefs.cli;

import io.cachefs.LoopbackPort;
import io.cachefs.source.s3.S3Server;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cachefs mount --source s3://BUCKET/PREFIX} as a user runs it: a daemon process over a
 * real S3 server (s3proxy on loopback, filesystem backend), read through the FUSE mount with real
 * tools, with the test's own AWS environment (none of the machine's AWS variables reach the
 * daemon).
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class S3MountTest {
    private static final String BUCKET = "models";
    private static final Duration MOUNT_PATIENCE = Duration.ofSeconds(60);
    private static S3Server server;
    private ScratchDir scratch;
    private Path mount;
    private DaemonProcess daemon;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.start();
        server.createBucket(BUCKET);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        scratch = new ScratchDir();
        mount = scratch.dir("mount");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        scratch.close();
    }

    /** What a user on AWS sets, pointed at the test server; no profile, no instance metadata. */
    private static Map<String, String> awsEnv(String secret) {
        Map<String, String> env = new HashMap<>();
        env.put("AWS_ENDPOINT_URL", server.endpoint().toString());
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY);
        env.put("AWS_SECRET_ACCESS_KEY", secret);
        env.put("AWS_EC2_METADATA_DISABLED", "true");
        env.put("AWS_CONFIG_FILE", "/nonexistent/cachefs-test-aws-config");
        env.put("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/cachefs-test-aws-credentials");
        return env;
    }

    private DaemonProcess mount(String url, Map<String, String> env, String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("mount", "--source", url, "--mount", mount.toString(),
                "--capacity", "256M"));
        args.addAll(List.of(flags));
        daemon = DaemonProcess.start(scratch, List.of(mount), List.of(), env, args.toArray(String[]::new));
        return daemon.awaitMounted(MOUNT_PATIENCE);
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName() + (Files.isDirectory(p) ? "/" : "")).sorted().toList();
        }
    }

    private static byte[] dd(Path file, long skipMiB, long countMiB) throws Exception {
        Process dd = new ProcessBuilder("dd", "if=" + file, "of=/dev/stdout", "bs=1M", "skip=" + skipMiB,
                "count=" + countMiB, "status=none").start();
        byte[] bytes = dd.getInputStream().readAllBytes();
        assertEquals(0, dd.waitFor(), "dd: " + new String(dd.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        return bytes;
    }

    @Test
    void mountsAPrefixAsATreeAndReadsItByteExact() throws Exception {
        byte[] model = S3Server.bytes(70 * 1024 * 1024 + 4321, 11); // loaded whole on open, in parallel GETs
        byte[] style = S3Server.bytes(300_000, 12);
        server.put(BUCKET, "tree/sd/model.safetensors", model);
        server.put(BUCKET, "tree/sd/lora/style.bin", style);
        server.put(BUCKET, "tree/readme.txt", "hello".getBytes(StandardCharsets.UTF_8));
        server.put(BUCKET, "elsewhere.bin", "not under the prefix".getBytes(StandardCharsets.UTF_8));
        mount("s3://" + BUCKET + "/tree", awsEnv(S3Server.SECRET_KEY));

        assertEquals(List.of("readme.txt", "sd/"), list(mount));
        assertEquals(List.of("lora/", "model.safetensors"), list(mount.resolve("sd")));
        assertEquals(model.length, Files.size(mount.resolve("sd/model.safetensors")));
        assertArrayEquals(model, dd(mount.resolve("sd/model.safetensors"), 0, 100), "dd reads the object as stored");
        assertArrayEquals(style, Files.readAllBytes(mount.resolve("sd/lora/style.bin")));
        assertEquals("hello", Files.readString(mount.resolve("readme.txt")));
        assertThrows(IOException.class, () -> Files.writeString(mount.resolve("readme.txt"), "x"), "read-only");
        assertFalse(Files.exists(mount.resolve("elsewhere.bin")), "only keys under the prefix show");
    }

    @Test
    void newObjectsAppearAndDeletedOnesDisappear() throws Exception {
        server.put(BUCKET, "fresh/first.bin", "first".getBytes(StandardCharsets.UTF_8));
        mount("s3://" + BUCKET + "/fresh", awsEnv(S3Server.SECRET_KEY));
        assertEquals(List.of("first.bin"), list(mount));

        server.put(BUCKET, "fresh/second.bin", "second".getBytes(StandardCharsets.UTF_8));
        server.delete(BUCKET, "fresh/first.bin");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!list(mount).equals(List.of("second.bin")) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(List.of("second.bin"), list(mount), "within the namespace TTL");
        assertEquals("second", Files.readString(mount.resolve("second.bin")));
        assertThrows(NoSuchFileException.class, () -> Files.readString(mount.resolve("first.bin")));
    }

    @Test
    void anObjectReplacedDuringAReadFailsTheOldOpenAndTheNextOpenReadsTheNewBytes() throws Exception {
        byte[] before = S3Server.bytes(32 << 20, 21);
        byte[] after = S3Server.bytes(32 << 20, 22); // same size: only the ETag tells them apart
        server.put(BUCKET, "replaced/model.bin", before);
        // no whole-file load and small blocks, so that most of the file is still to be read after the replace
        mount("s3://" + BUCKET + "/replaced", awsEnv(S3Server.SECRET_KEY), "--whole-file-from", "off",
                "--block-size", "1M", "--readahead", "2");
        Path file = mount.resolve("model.bin");
        try (FileChannel old = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer first = ByteBuffer.allocate(1 << 20);
            old.read(first, 0);
            assertArrayEquals(Arrays.copyOf(before, 1 << 20), first.array());
            server.put(BUCKET, "replaced/model.bin", after);
            IOException failure = assertThrows(IOException.class, () -> old.read(ByteBuffer.allocate(1 << 20), 24 << 20),
                    "bytes of the new version are never served to the old open");
            assertTrue(failure.getMessage().contains("Input/output error"), failure.getMessage());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        byte[] now = Files.readAllBytes(file);
        while (!Arrays.equals(after, now) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            now = Files.readAllBytes(file);
        }
        assertArrayEquals(after, now, "a new open reads the new version");
    }

    @Test
    void aSparseObjectOverFiveGibibytesIsReadAtItsEnd() throws Exception {
        long size = (5L << 30) + 12_345;
        byte[] tail = S3Server.bytes(3 << 20, 31);
        server.putSparse(BUCKET, "huge/model.bin", size, tail);
        mount("s3://" + BUCKET + "/huge", awsEnv(S3Server.SECRET_KEY));
        Path file = mount.resolve("model.bin");
        assertEquals(size, Files.size(file));
        long lastMiB = size >> 20; // the partial MiB at the end
        byte[] end = dd(file, lastMiB - 2, 3);
        assertEquals(size - ((lastMiB - 2) << 20), end.length);
        assertArrayEquals(Arrays.copyOfRange(tail, tail.length - end.length, tail.length), end);
    }

    @Test
    void aPeerGroupOverABucketReadsTheBucketOnce() throws Exception {
        byte[] model = S3Server.bytes(48 << 20, 41);
        server.put(BUCKET, "group/model.bin", model);
        Path token = scratch.text("token", "a-token-for-the-s3-group\n");
        int[] peerPorts = {LoopbackPort.free(), LoopbackPort.free()};
        int[] adminPorts = {LoopbackPort.free(), LoopbackPort.free()};
        String group = "127.0.0.1:" + peerPorts[0] + ",127.0.0.2:" + peerPorts[1];
        List<Path> mounts = List.of(scratch.dir("m1"), scratch.dir("m2"));
        List<DaemonProcess> members = new ArrayList<>();
        try {
            for (int n = 0; n < 2; n++) {
                String host = "127.0.0." + (n + 1);
                members.add(DaemonProcess.start(scratch, List.of(mounts.get(n)), List.of(), awsEnv(S3Server.SECRET_KEY),
                        "mount", "--source", "s3://" + BUCKET + "/group", "--mount", mounts.get(n).toString(),
                        "--capacity", "256M", "--listen", host + ":" + peerPorts[n], "--peers", group,
                        "--peer-token-file", token.toString(), "--admin", host + ":" + adminPorts[n]));
            }
            for (DaemonProcess member : members) {
                member.awaitMounted(MOUNT_PATIENCE);
            }
            assertArrayEquals(model, Files.readAllBytes(mounts.get(0).resolve("model.bin")));
            assertArrayEquals(model, Files.readAllBytes(mounts.get(1).resolve("model.bin")));
            String first = metrics("127.0.0.1", adminPorts[0]);
            String second = metrics("127.0.0.2", adminPorts[1]);
            assertEquals(model.length, counter(first, "cachefs_source_read_bytes_total", "")
                    + counter(second, "cachefs_source_read_bytes_total", ""),
                    "the group GETs every block once, each from its owner:\n" + first + second);
            assertTrue(counter(second, "cachefs_read_bytes_total{", "tier=\"peer\"") > 0,
                    "the second member's reader got blocks from the first member's memory:\n" + second);
            assertTrue(counter(first, "cachefs_load_target_streams", "") >= 4,
                    "an s3:// source starts its loads at four streams, through every wrapper of the source and"
                    + " the peer loader (Source.firstStreams), and never goes below:\n" + first);
        } finally {
            for (DaemonProcess member : members) {
                member.close();
            }
        }
    }


    private static String metrics(String host, int port) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    /** The samples that start with {@code prefix} and carry {@code label}, summed. */
    private static long counter(String metrics, String prefix, String label) {
        return (long) metrics.lines().filter(line -> line.startsWith(prefix) && line.contains(label))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    /** The one line every refusal must be, with nothing mounted. */
    private void assertRefused(DaemonProcess process, String... mentions) throws Exception {
        assertTrue(process.awaitExit(MOUNT_PATIENCE), "cachefs exits");
        String stderr = process.stderr();
        List<String> lines = stderr.lines().toList();
        assertEquals(1, lines.size(), "exactly one line on stderr, got:\n" + stderr);
        assertTrue(lines.getFirst().startsWith("cachefs: "), lines.getFirst());
        for (String mention : mentions) {
            assertTrue(lines.getFirst().contains(mention), "names " + mention + ": " + lines.getFirst());
        }
        assertFalse(stderr.contains("Exception") || stderr.contains("\tat "), stderr);
        assertEquals(2, process.exitValue(), stderr);
        assertEquals(List.of(), MountTable.mountsUnder(scratch.root()), "nothing mounted");
    }

    private DaemonProcess start(String url, Map<String, String> env) throws IOException {
        daemon = DaemonProcess.start(scratch, List.of(mount), List.of(), env, "mount", "--source", url, "--mount",
                mount.toString(), "--capacity", "256M");
        return daemon;
    }

    @Test
    void wrongCredentialsAMissingBucketABadUrlAndADeadEndpointAreOneLineAndExitTwo() throws Exception {
        server.put(BUCKET, "present/x.bin", "x".getBytes(StandardCharsets.UTF_8));
        assertRefused(start("s3://" + BUCKET + "/present", awsEnv("wrong-secret")),
                "credentials were refused", "AWS_SECRET_ACCESS_KEY");
        assertRefused(start("s3://no-such-bucket/models", awsEnv(S3Server.SECRET_KEY)),
                "bucket no-such-bucket does not exist");
        assertRefused(start("s3://Not_A_Bucket/models", awsEnv(S3Server.SECRET_KEY)), "does not name a bucket");
        Map<String, String> dead = awsEnv(S3Server.SECRET_KEY);
        int port;
        try (ServerSocket closed = new ServerSocket(0)) {
            port = closed.getLocalPort();
        }
        dead.put("AWS_ENDPOINT_URL", "http://127.0.0.1:" + port);
        assertRefused(start("s3://" + BUCKET, dead), "cannot reach the S3 endpoint http://127.0.0.1:" + port);
        Map<String, String> noKeys = awsEnv(S3Server.SECRET_KEY);
        noKeys.remove("AWS_ACCESS_KEY_ID");
        noKeys.remove("AWS_SECRET_ACCESS_KEY");
        assertRefused(start("s3://" + BUCKET, noKeys), "no AWS credentials found");
    }
}
