package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.LoopbackPort;
import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLease;
import io.cachefs.cache.CacheSettings;
import io.cachefs.source.FileVersion;
import io.cachefs.source.LocalDirSource;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A block a peer sends slowly but steadily, taking longer than the source timeout, reaches the
 * reader: bytes arriving are progress, not a hung source. (Eight new members sharing uplinks in
 * bench/scale-out had blocks take that long, and the load watchdog used to fail the readers with
 * EIO.) The member under test is a real {@link PeerGroup} over a {@link BlockCache}; the warm
 * member is a fake on a plain socket that holds the whole file and sends every answer 4 KiB at a
 * time, 150 ms apart: a 64 KiB block takes about 2.4 s, against a source timeout of 1 s.
 */
class SlowPeerTransferTest {
    private static final int BLOCK = 64 * 1024;
    private static final int BLOCKS = 2;
    private static final Duration SOURCE_TIMEOUT = Duration.ofSeconds(1);
    private static final String PATH = "models/slow.bin";

    @TempDir
    Path dir;

    @Test
    void aBlockThatArrivesSlowerThanTheSourceTimeoutButSteadilyIsServed() throws Exception {
        byte[] content = new byte[BLOCKS * BLOCK];
        new Random(7).nextBytes(content);
        Path root = Files.createDirectories(dir.resolve("source"));
        Files.write(Files.createDirectories(root.resolve("models")).resolve("slow.bin"), content);
        LocalDirSource source = new LocalDirSource(root);
        FileVersion file = source.stat(PATH).orElseThrow().version();

        PeerAddress[] warmName = new PeerAddress[1];
        try (FakePeer warm = new FakePeer(request -> FakePeer.holdingEverything(request.split(" ")[1], content, BLOCK,
                warmName[0]), 4096, 150)) {
            warmName[0] = PeerAddress.parse("127.0.0.1:" + warm.address().getPort());
            PeerAddress self = PeerAddress.parse("127.0.0.1:" + LoopbackPort.free());
            PeerSpec spec = PeerSpec.parse(self + "," + warmName[0]);
            try (PeerGroup group = PeerGroup.join(self, spec, PeerToken.from("slow-peer-secret"), source, BLOCK);
                    BlockCache cache = new BlockCache(new CacheSettings(8L * BLOCK, BLOCK, null, SOURCE_TIMEOUT),
                            group.loader())) {
                group.serve(cache, source);

                long start = System.nanoTime();
                try (BlockLease lease = cache.acquire(file, 1)) {
                    long tookMillis = (System.nanoTime() - start) / 1_000_000;
                    assertEquals(-1, lease.bytes().mismatch(
                            MemorySegment.ofArray(Arrays.copyOfRange(content, BLOCK, 2 * BLOCK))), "block 1's bytes");
                    assertTrue(tookMillis > SOURCE_TIMEOUT.toMillis(),
                            "the block took longer than the source timeout to arrive (" + tookMillis + " ms)");
                }
                assertTrue(group.fetchedBytesByPeer().getOrDefault(warmName[0].toString(), 0L) >= BLOCK,
                        "from the warm member, not the source: " + group.fetchedBytesByPeer());
            }
        }
    }
}
