package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.LoopbackPort;
import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLease;
import io.cachefs.cache.CacheSettings;
import io.cachefs.source.FileVersion;
import io.cachefs.source.LocalDirSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member passes a block on while it arrives from another (cut-through): asked for it from
 * memory meanwhile, it answers with the block, not "not here", and says it holds it; should the
 * arrival fail, the asker's answer breaks off at once and is never taken for the block.
 *
 * <p>The member in the middle is a real {@link PeerGroup} over a {@link BlockCache}; the warm
 * member it fetches from is a fake holding the whole file that sends each answer 4 KiB at a time,
 * 300 ms apart (a 64 KiB block takes about 5 s); the asker is a {@link PeerClient}.
 */
class CutThroughTest {
    private static final int BLOCK = 64 * 1024;
    private static final int BLOCKS = 2;
    private static final String PATH = "models/relayed.bin";
    private static final PeerToken TOKEN = PeerToken.from("cut-through-secret");

    @TempDir
    Path dir;
    private byte[] content;
    private LocalDirSource source;
    private FileVersion file;
    private final AtomicInteger blockRequests = new AtomicInteger();
    private PeerClient asker;

    @BeforeEach
    void setUp() throws Exception {
        content = new byte[BLOCKS * BLOCK];
        new Random(11).nextBytes(content);
        Path root = Files.createDirectories(dir.resolve("source"));
        Files.write(Files.createDirectories(root.resolve("models")).resolve("relayed.bin"), content);
        source = new LocalDirSource(root);
        file = source.stat(PATH).orElseThrow().version();
        asker = new PeerClient(TOKEN, Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(20));
    }

    @AfterEach
    void tearDown() {
        asker.close();
    }

    @Test
    void aBlockStillArrivingIsPassedOnToAnAskerAndAnnouncedAsHeld() throws Exception {
        try (FakePeer warm = warmMember(); Arena arena = Arena.ofShared()) {
            withBlockArrivingAtMiddle(warm, (group, middle, loading) -> {
                assertFalse(loading.isDone(), "the block is still arriving at the middle member");
                MemorySegment received = arena.allocate(BLOCK);
                PeerFetch answer = asker.fetch(middle, new BlockRequest(file, 1, BLOCK, BlockRequest.Mode.MEMORY),
                        received);
                assertInstanceOf(PeerFetch.Fetched.class, answer, "a memory request for an arriving block: " + answer);
                assertEquals(-1, received.mismatch(block(1)));
                long counted = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (group.passedOnBytes() < BLOCK && System.nanoTime() < counted) {
                    Thread.sleep(10); // counted when the last write completes, a moment after the asker has it
                }
                assertEquals(BLOCK, group.passedOnBytes(), "counted as passed on");
                loading.get(30, TimeUnit.SECONDS);
                assertEquals(1, blockRequests.get(), "the warm member sent the block once, to the middle member");
            });
        }
    }

    @Test
    void anArrivalThatBreaksOffBreaksOffItsPassingOnAtOnce() throws Exception {
        try (FakePeer warm = warmMember(); Arena arena = Arena.ofShared()) {
            withBlockArrivingAtMiddle(warm, (group, middle, loading) -> {
                MemorySegment received = arena.allocate(BLOCK);
                CompletableFuture<PeerFetch> answer = CompletableFuture.supplyAsync(() -> asker.fetch(middle,
                        new BlockRequest(file, 1, BLOCK, BlockRequest.Mode.MEMORY), received));
                Thread.sleep(700); // a few slices passed on
                long killed = System.nanoTime();
                warm.close(); // the warm member dies mid-block
                PeerFetch result = answer.get(30, TimeUnit.SECONDS);
                long tookMillis = (System.nanoTime() - killed) / 1_000_000;
                PeerFetch.Failed failed = assertInstanceOf(PeerFetch.Failed.class, result);
                assertEquals(PeerFetch.Kind.BAD_RESPONSE, failed.kind(), "cut off, not left to time out: " + failed);
                assertTrue(tookMillis < PeerClient.BODY_SILENCE.toMillis(), "broken off within " + tookMillis + " ms");
                loading.get(30, TimeUnit.SECONDS); // the middle member's own load goes on, to the source
            });
        }
    }

    /** What a test does while block 1 arrives at the middle member, which says it holds it. */
    private interface WhileArriving {
        void run(PeerGroup group, InetSocketAddress middle, CompletableFuture<Void> loading) throws Exception;
    }

    /**
     * Starts the middle member (its group: itself and {@code warm}), has it load block 1, waits
     * until it says it holds the block, runs {@code test}.
     */
    private void withBlockArrivingAtMiddle(FakePeer warm, WhileArriving test) throws Exception {
        PeerAddress warmName = PeerAddress.parse("127.0.0.1:" + warm.address().getPort());
        PeerAddress self = PeerAddress.parse("127.0.0.1:" + LoopbackPort.free());
        try (PeerGroup group = PeerGroup.join(self, PeerSpec.parse(self + "," + warmName), TOKEN, source, BLOCK);
                BlockCache cache = new BlockCache(new CacheSettings(8L * BLOCK, BLOCK, null, Duration.ofSeconds(30)),
                        group.loader())) {
            group.serve(cache, source);
            InetSocketAddress middle = new InetSocketAddress("127.0.0.1", self.port());
            CompletableFuture<Void> loading = CompletableFuture.runAsync(() -> {
                try (BlockLease lease = cache.acquire(file, 1)) {
                    assertEquals(-1, lease.bytes().mismatch(block(1)), "the middle member's own copy");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            awaitHeld(middle, 1, loading);
            test.run(group, middle, loading);
        }
    }

    /** The warm member: holds the whole file and sends any block 4 KiB every 300 ms; counts block requests. */
    private FakePeer warmMember() throws IOException {
        PeerAddress[] name = new PeerAddress[1];
        FakePeer warm = new FakePeer(request -> {
            String uri = request.split(" ")[1];
            if (uri.startsWith(WireFormat.BLOCKS_PATH)) {
                blockRequests.incrementAndGet();
            }
            return FakePeer.holdingEverything(uri, content, BLOCK, name[0]);
        }, 4096, 300);
        name[0] = PeerAddress.parse("127.0.0.1:" + warm.address().getPort());
        return warm;
    }

    /** Waits until the middle member says it holds block {@code index} (while it arrives). */
    private void awaitHeld(InetSocketAddress middle, int index, CompletableFuture<Void> loading) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            PeerClient.Reply reply = asker.get(middle, BlockRequest.holdersUri(file, BLOCK, false), false);
            BitSet held = reply.failure() == null ? Holdings.decode(new String(reply.body(), java.nio.charset.StandardCharsets.UTF_8)).byMember().values().stream()
                    .findFirst().orElse(new BitSet()) : new BitSet();
            if (held.get(index)) {
                return;
            }
            assertFalse(loading.isDone(), "the block arrived whole before the middle member ever said it held it");
            assertTrue(System.nanoTime() < deadline, "the middle member never said it held the arriving block");
            Thread.sleep(20);
        }
    }

    private MemorySegment block(int index) {
        return MemorySegment.ofArray(Arrays.copyOfRange(content, index * BLOCK, (index + 1) * BLOCK));
    }
}
