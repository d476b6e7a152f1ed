package io.cachefs.source.s3;

import io.cachefs.source.FileVersion;
import io.cachefs.source.SourceEntry;
import io.cachefs.source.SourceFile;
import io.cachefs.source.StaleVersionException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The S3 source against a real S3 server (s3proxy on loopback), without FUSE: the tree it shows
 * for keys, byte-exact ranged reads, version checks, and how it rides out a store that fails
 * (503, resets, stalls, through {@link FaultyProxy}) and refuses what cannot work.
 */
class S3SourceTest {
    private static final String BUCKET = "models";
    private static final Duration SOURCE_TIMEOUT = Duration.ofSeconds(6); // stalls replaced after 1 s
    private static S3Server server;
    private static byte[] big;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.start(S3Server.Backend.MEMORY);
        server.createBucket(BUCKET);
        big = S3Server.bytes(13 * 1024 * 1024 + 12_345, 7); // not a multiple of anything
        server.put(BUCKET, "sd/v1/model.safetensors", big);
        server.put(BUCKET, "sd/v1/config.json", "{}".getBytes());
        server.put(BUCKET, "sd/v1/lora/style.bin", S3Server.bytes(70_000, 2));
        server.put(BUCKET, "sd/v1/empty/", new byte[0]); // a folder marker
        server.put(BUCKET, "sd/v2/other.bin", "y".getBytes());
        server.put(BUCKET, "top.bin", "z".getBytes());
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static S3Source source(URI endpoint, String prefix) throws BucketAccessException {
        return source(endpoint, prefix, S3Server.ACCESS_KEY, S3Server.SECRET_KEY, BUCKET);
    }

    private static S3Source source(URI endpoint, String prefix, String key, String secret, String bucket)
            throws BucketAccessException {
        S3Settings settings = S3Settings.resolve(bucket, prefix, endpoint.toString(), false, SOURCE_TIMEOUT, Map.of());
        return S3Source.connect(ObjectStore.open(settings,
                StaticCredentialsProvider.create(AwsBasicCredentials.create(key, secret)), Region.US_EAST_1));
    }

    private static List<String> names(List<SourceEntry> entries) {
        return entries.stream().map(e -> e.name() + (e.kind() == SourceEntry.Kind.DIRECTORY ? "/" : "")).toList();
    }

    private static byte[] read(SourceFile file, long offset, int length) throws IOException {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment dst = arena.allocate(length);
            file.read(offset, dst);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void showsThePrefixAsATreeWithDirectoriesFromSlashes() throws Exception {
        try (S3Source source = source(server.endpoint(), "sd/v1")) {
            assertEquals(List.of("config.json", "empty/", "lora/", "model.safetensors"), names(source.list("")));
            assertEquals(List.of("style.bin"), names(source.list("lora")));
            assertEquals(List.of(), names(source.list("empty")), "a folder marker is an empty directory");
            SourceEntry model = source.stat("model.safetensors").orElseThrow();
            assertEquals(SourceEntry.Kind.FILE, model.kind());
            assertEquals(big.length, model.size());
            assertEquals(server.etag(BUCKET, "sd/v1/model.safetensors"), model.versionTag(), "the version is the ETag");
            assertEquals(model, source.list("").stream().filter(e -> e.name().equals("model.safetensors")).findFirst()
                    .orElseThrow(), "HEAD and LIST describe one version alike");
            assertEquals(SourceEntry.Kind.DIRECTORY, source.stat("lora").orElseThrow().kind());
            assertTrue(source.stat("nothing").isEmpty());
            assertTrue(source.stat("lora/nothing").isEmpty());
            assertThrows(NoSuchFileException.class, () -> source.list("nothing"));
            assertThrows(NoSuchFileException.class, () -> source.stat("../v2/other.bin"));
        }
        try (S3Source whole = source(server.endpoint(), "")) {
            assertEquals(List.of("sd/", "top.bin"), names(whole.list("")), "an empty prefix is the whole bucket");
            assertEquals(List.of("v1/", "v2/"), names(whole.list("sd")));
        }
    }

    @Test
    void readsRangesByteExactAcrossPartsAndAtTheEnd() throws Exception {
        try (S3Source source = source(server.endpoint(), "sd/v1")) {
            FileVersion version = source.stat("model.safetensors").orElseThrow().version();
            try (SourceFile file = source.open(version)) {
                assertArrayEquals(big, read(file, 0, big.length), "the whole object, in parallel parts");
                int from = 5 * 1024 * 1024 - 3;
                assertArrayEquals(Arrays.copyOfRange(big, from, from + 8_000_001), read(file, from, 8_000_001));
                assertArrayEquals(Arrays.copyOfRange(big, big.length - 10, big.length), read(file, big.length - 10, 10));
                assertArrayEquals(new byte[0], read(file, big.length, 0));
                assertThrows(IllegalArgumentException.class, () -> read(file, big.length - 10, 11));
            }
        }
    }

    @Test
    void aReplacedObjectIsAStaleVersionAndADeletedOneToo() throws Exception {
        server.put(BUCKET, "changing/a.bin", S3Server.bytes(100_000, 1));
        server.put(BUCKET, "changing/b.bin", S3Server.bytes(100_000, 2));
        try (S3Source source = source(server.endpoint(), "changing")) {
            FileVersion a = source.stat("a.bin").orElseThrow().version();
            FileVersion b = source.stat("b.bin").orElseThrow().version();
            server.put(BUCKET, "changing/a.bin", S3Server.bytes(100_000, 3)); // same size, new ETag
            server.delete(BUCKET, "changing/b.bin");
            try (SourceFile file = source.open(a)) {
                StaleVersionException stale = assertThrows(StaleVersionException.class, () -> read(file, 0, 1000));
                assertTrue(stale.getMessage().contains("replaced"), stale.getMessage());
            }
            try (SourceFile file = source.open(b)) {
                StaleVersionException gone = assertThrows(StaleVersionException.class, () -> read(file, 0, 1000));
                assertTrue(gone.getMessage().contains("deleted"), gone.getMessage());
            }
            FileVersion now = source.stat("a.bin").orElseThrow().version();
            assertFalse(now.equals(a));
            try (SourceFile file = source.open(now)) {
                assertArrayEquals(S3Server.bytes(100_000, 3), read(file, 0, 100_000));
            }
        }
    }

    @Test
    void ridesOutSlowDownResetsAndStallsWithoutLosingAByte() throws Exception {
        try (FaultyProxy proxy = new FaultyProxy(server.endpoint());
             S3Source source = source(proxy.endpoint(), "sd/v1")) {
            proxy.failRequests(FaultyProxy.Fault.SLOW_DOWN, FaultyProxy.Fault.SLOW_DOWN);
            FileVersion version = source.stat("model.safetensors").orElseThrow().version();
            assertEquals(2, proxy.faultsDone(), "the HEAD got two 503s and was tried again");
            proxy.failRangedGets(FaultyProxy.Fault.SLOW_DOWN, FaultyProxy.Fault.RESET, FaultyProxy.Fault.STALL,
                    FaultyProxy.Fault.RESET);
            long start = System.nanoTime();
            try (SourceFile file = source.open(version)) {
                assertArrayEquals(big, read(file, 0, big.length));
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertEquals(0, proxy.faultsLeft(), "every planned fault hit a GET");
            assertEquals(6, proxy.faultsDone());
            assertTrue(took.compareTo(SOURCE_TIMEOUT) < 0, "the stalled GET was replaced, not waited on: " + took);
        }
    }

    @Test
    void aStoreThatKeepsFailingFailsTheReadInsteadOfHanging() throws Exception {
        try (FaultyProxy proxy = new FaultyProxy(server.endpoint());
             S3Source source = source(proxy.endpoint(), "sd/v1")) {
            FileVersion version = source.stat("config.json").orElseThrow().version();
            FaultyProxy.Fault[] always = new FaultyProxy.Fault[20];
            Arrays.fill(always, FaultyProxy.Fault.SLOW_DOWN);
            proxy.failRangedGets(always);
            try (SourceFile file = source.open(version)) {
                IOException failure = assertThrows(IOException.class, () -> read(file, 0, 2));
                assertTrue(failure.getMessage().contains("503"), failure.getMessage());
            }
            assertEquals(Backoff.DEFAULT.attempts(), proxy.faultsDone(), "tried as often as the back-off allows");
        }
    }

    @Test
    void refusesAMissingBucketWrongCredentialsAndAnEndpointThatDoesNotAnswer() throws Exception {
        BucketAccessException missing = assertThrows(BucketAccessException.class,
                () -> source(server.endpoint(), "", S3Server.ACCESS_KEY, S3Server.SECRET_KEY, "no-such-bucket"));
        assertTrue(missing.getMessage().startsWith("bucket no-such-bucket does not exist at"), missing.getMessage());
        BucketAccessException refused = assertThrows(BucketAccessException.class,
                () -> source(server.endpoint(), "", S3Server.ACCESS_KEY, "wrong-secret", BUCKET));
        assertTrue(refused.getMessage().startsWith("the credentials were refused"), refused.getMessage());
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        BucketAccessException unreachable = assertThrows(BucketAccessException.class,
                () -> source(URI.create("http://127.0.0.1:" + closedPort), ""));
        assertTrue(unreachable.getMessage().startsWith("cannot reach the S3 endpoint http://127.0.0.1:" + closedPort),
                unreachable.getMessage());
    }
}
