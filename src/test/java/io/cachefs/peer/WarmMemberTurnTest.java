package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.LoopbackPort;
import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLease;
import io.cachefs.cache.CacheSettings;
import io.cachefs.source.FileVersion;
import io.cachefs.source.LocalDirSource;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new member loading a whole file from a warm member that another new member shares asks the
 * warm member for one memory block at a time ({@link PeerLoader}'s per-peer turn, granted when
 * {@link SwarmOrder#oneAtATimeFrom} says so). Without the turn, the load's {@link SwarmOrder#STREAMS}
 * streams ask the warm member for several blocks at once: its uplink then sends a sliver of each,
 * so no block is complete early enough for the new members to pass it on to each other. (The
 * order's own picks already wait for a busy warm member; the turn is what holds back the blocks
 * the other streams load in file order meanwhile.)
 *
 * <p>The member under test is real (a {@link PeerGroup} over a {@link BlockCache}, serving on a
 * port of its own); the other two members are fakes on plain sockets speaking the peer wire: a
 * warm one that holds the whole file and counts how many block requests it serves at once, and a
 * new one that holds nothing, so two live members lack the file (the "crowd" that makes the turn
 * apply) and every block the new fake is the swarm owner of also goes to the warm member.
 */
class WarmMemberTurnTest {
    /**
     * The default block size, and a file long enough (128 MiB) that the whole-file load's streams
     * also split the file into runs (LoadStreams splits no run under 32 MiB): blocks the swarm's
     * order does not pick are then loaded by several streams at once, each asking the warm member.
     */
    private static final int BLOCK = CacheSettings.DEFAULT_BLOCK_SIZE;
    private static final int BLOCKS = 32;
    /** Long enough that requests the member makes at once overlap at the warm member for certain. */
    private static final long SERVE_MILLIS = 120;
    private static final String PATH = "models/m.bin";

    @TempDir
    Path dir;

    @Test
    void aNewMemberAsksASharedWarmMemberForOneBlockAtATime() throws Exception {
        Path root = Files.createDirectories(dir.resolve("source"));
        Path model = Files.createDirectories(root.resolve("models")).resolve("m.bin");
        writeRandom(model);

        try (FileChannel content = FileChannel.open(model);
                WireFake warm = new WireFake(content, true);
                WireFake otherNew = new WireFake(content, false)) {
            PeerAddress self = PeerAddress.parse("127.0.0.1:" + LoopbackPort.free());
            warm.others = otherNew.name();
            otherNew.others = warm.name();
            LocalDirSource source = new LocalDirSource(root);
            FileVersion file = source.stat(PATH).orElseThrow().version();
            PeerSpec spec = PeerSpec.parse(self + "," + warm.name() + "," + otherNew.name());
            try (PeerGroup group = PeerGroup.join(self, spec, PeerToken.from("turn-test-secret"), source, BLOCK);
                    BlockCache cache = new BlockCache(
                            new CacheSettings(2L * BLOCKS * BLOCK, BLOCK, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT),
                            group.loader())) {
                group.serve(cache, source);

                assertTrue(cache.loadWhole(file), "the file fits: it is loaded whole, in the swarm's streams");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!cache.isFullyCached(file)) {
                    assertTrue(System.nanoTime() < deadline, "the whole file did not load within 60 s");
                    Thread.sleep(20);
                }

                assertHoldsTheFile(cache, file, content);
                // not vacuous: the blocks came from the warm member, asked from memory, not from the source
                assertEquals(BLOCKS, warm.memoryServed.get(),
                        "the warm member served every block; fetched per peer: " + group.fetchedBytesByPeer());
                assertEquals((long) BLOCKS * BLOCK,
                        group.fetchedBytesByPeer().getOrDefault(warm.name().toString(), 0L),
                        "every byte came from the warm member");
                assertEquals(1, warm.maxAtOnce.get(), "memory block requests the warm member served at once,"
                        + " while another member lacked the file too (at most 1 with the turn)");
            }
        }
    }

    private static void writeRandom(Path file) throws IOException {
        Random random = new Random(42);
        byte[] block = new byte[BLOCK];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int index = 0; index < BLOCKS; index++) {
                random.nextBytes(block);
                out.write(block);
            }
        }
    }

    /** Block by block, so the test's heap need not hold the file twice. */
    private static void assertHoldsTheFile(BlockCache cache, FileVersion file, FileChannel content)
            throws IOException {
        for (int index = 0; index < BLOCKS; index++) {
            try (BlockLease lease = cache.acquire(file, index)) {
                assertEquals(-1, lease.bytes().mismatch(MemorySegment.ofArray(block(content, index))),
                        "block " + index + " holds the file's bytes");
            }
        }
    }

    private static byte[] block(FileChannel content, int index) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(BLOCK);
        while (block.hasRemaining()) {
            if (content.read(block, (long) index * BLOCK + block.position()) < 0) {
                throw new java.io.EOFException("block " + index);
            }
        }
        return block.array();
    }


    /**
     * A member on a plain socket: keep-alive HTTP/1.1, one request at a time per connection, as the
     * peer client speaks it; signatures are not checked. Asked for holders by a tracker (scope=self),
     * the warm one names itself with every block and the new one nothing; asked as a tracker
     * (scope=group), both say the warm one holds every block. The warm one serves any block after
     * {@link #SERVE_MILLIS}; the new one holds none (404), loads included, so that every block ends up
     * asked of the warm member from memory. Announcements get a 204.
     */
    private static final class WireFake implements AutoCloseable {
        private final FileChannel content;
        private final boolean holdsAll;
        private final FakePeer peer;
        private final AtomicInteger atOnce = new AtomicInteger();
        final AtomicInteger maxAtOnce = new AtomicInteger();
        final AtomicInteger memoryServed = new AtomicInteger();
        /** The other fake: the warm one, as a tracker tells it. */
        volatile PeerAddress others;

        WireFake(FileChannel content, boolean holdsAll) throws IOException {
            this.content = content;
            this.holdsAll = holdsAll;
            this.peer = new FakePeer(requestLine -> {
                try {
                    return answer(requestLine.split(" ")[1]);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null; // the test is over
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        PeerAddress name() {
            return PeerAddress.parse("127.0.0.1:" + peer.address().getPort());
        }

        private byte[] answer(String uri) throws IOException, InterruptedException {
            if (uri.startsWith(WireFormat.HOLDERS_PATH)) {
                BitSet all = new BitSet();
                all.set(0, BLOCKS);
                PeerAddress warm = holdsAll ? name() : others;
                Holdings holdings = uri.contains("scope=self")
                        ? (holdsAll ? new Holdings(Map.of(name(), all)) : Holdings.NONE)
                        : new Holdings(Map.of(warm, all));
                return FakePeer.answer("200 OK", holdings.encodeBytes(), "Content-Type: text/plain");
            }
            if (uri.startsWith(WireFormat.BLOCKS_PATH) && holdsAll) {
                int index = Integer.parseInt(uri.substring(WireFormat.BLOCKS_PATH.length(), uri.indexOf('?')));
                boolean memory = uri.contains("mode=memory");
                if (memory) {
                    int now = atOnce.incrementAndGet();
                    maxAtOnce.accumulateAndGet(now, Math::max);
                }
                try {
                    Thread.sleep(SERVE_MILLIS); // a block on the wire: requests made meanwhile overlap this one
                } finally {
                    if (memory) {
                        // before the answer leaves: a request the client makes after reading it must not overlap
                        atOnce.decrementAndGet();
                    }
                }
                byte[] block = block(content, index);
                CRC32C crc = new CRC32C();
                crc.update(block);
                if (memory) {
                    memoryServed.incrementAndGet();
                }
                return FakePeer.answer("200 OK", block, "Content-Type: application/octet-stream",
                        WireFormat.CRC32C_HEADER + ": " + WireFormat.formatCrc((int) crc.getValue()));
            }
            if (uri.startsWith(WireFormat.HOLDINGS_PATH)) {
                return FakePeer.answer("204 No Content", new byte[0]);
            }
            return FakePeer.answer("404 Not Found", "not here\n".getBytes(UTF_8), "Content-Type: text/plain");
        }

        @Override
        public void close() throws IOException {
            peer.close();
        }
    }
}
