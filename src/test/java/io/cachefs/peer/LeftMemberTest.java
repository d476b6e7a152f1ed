package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.LoopbackPort;
import io.cachefs.cache.BlockCache;
import io.cachefs.cache.CacheSettings;
import io.cachefs.source.FileVersion;
import io.cachefs.source.LocalDirSource;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that leaves the group's view is no longer named as a holder by the members that
 * tracked it. Otherwise a new instance that comes back at its address (a pod rescheduled onto the
 * same IP, a daemon restarted) would be taken for a holder of everything its predecessor held
 * until the tracker's entries expired (minutes): every asker would get "not here" from it, and
 * the swarm would plan around a warm member that is not. The tracker under test is a real
 * {@link PeerGroup} whose members come from a file; the member that leaves is only an address
 * that announced.
 */
class LeftMemberTest {
    private static final int BLOCK = 64 * 1024;
    private static final PeerToken TOKEN = PeerToken.from("left-member-secret");

    @TempDir
    Path dir;

    @Test
    void aMemberThatLeftTheViewIsNoLongerNamedAsAHolder() throws Exception {
        Path root = Files.createDirectories(dir.resolve("source"));
        Files.write(root.resolve("model.bin"), new byte[2 * BLOCK]);
        LocalDirSource source = new LocalDirSource(root);
        FileVersion file = source.stat("model.bin").orElseThrow().version();
        PeerAddress self = PeerAddress.parse("127.0.0.1:" + LoopbackPort.free());
        PeerAddress gone = PeerAddress.parse("127.0.0.1:" + LoopbackPort.free());
        Path peers = dir.resolve("peers");
        Files.writeString(peers, self + "\n" + gone + "\n");

        try (PeerGroup group = PeerGroup.join(self, PeerSpec.parse("file:" + peers), TOKEN, source, BLOCK);
                BlockCache cache = new BlockCache(new CacheSettings(8L * BLOCK, BLOCK, null, Duration.ofSeconds(5)),
                        group.loader());
                PeerClient client = new PeerClient(TOKEN, Duration.ofSeconds(1), Duration.ofSeconds(2),
                        Duration.ofSeconds(20))) {
            group.serve(cache, source);
            InetSocketAddress tracker = new InetSocketAddress("127.0.0.1", self.port());
            client.identifyAs(gone);
            BitSet both = new BitSet();
            both.set(0, 2);
            PeerClient.Reply told = client.post(tracker, WireFormat.HOLDINGS_PATH,
                    new Announcement(file, BLOCK, both).line().getBytes(UTF_8));
            assertEquals(204, told.status(), String.valueOf(told.failure()));
            assertTrue(holders(client, tracker, file).contains(gone), "the announcement was taken");

            Files.writeString(peers, self + "\n"); // it leaves
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15); // the file is re-read every 3 s
            while (holders(client, tracker, file).contains(gone)) {
                assertTrue(System.nanoTime() < deadline, "still named as a holder after leaving the view");
                Thread.sleep(100);
            }
        }
    }

    /** The members the tracker names as holders of {@code file}. */
    private static Set<PeerAddress> holders(PeerClient client, InetSocketAddress tracker, FileVersion file) {
        PeerClient.Reply reply = client.get(tracker, BlockRequest.holdersUri(file, BLOCK, true), false);
        assertEquals(200, reply.status(), String.valueOf(reply.failure()));
        return Holdings.decode(reply.text()).byMember().keySet();
    }
}
