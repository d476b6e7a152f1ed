package io.cachefs.cli;

import io.cachefs.LoopbackPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cachefs status} against real daemons: two members of a peer group on 127.0.0.1 and
 * 127.0.0.2 that list a third member nobody runs, read through their mounts.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class StatusCommandTest {
    private static final long MIB = 1 << 20;
    private ScratchDir scratch;

    @BeforeEach
    void setUp() throws IOException {
        scratch = new ScratchDir();
    }

    @AfterEach
    void tearDown() throws Exception {
        scratch.close();
    }


    @Test
    void summarizesMemoryTiersBiggestFilesSourceAndPeers() throws Exception {
        Path source = scratch.dir("source");
        scratch.file("source/models/big.safetensors", 24 * MIB, 1);
        scratch.file("source/small.json", 8 * MIB + 5, 2);
        Path token = scratch.text("token", "status-test-secret\n");
        int[] peerPorts = {LoopbackPort.free(), LoopbackPort.free(), LoopbackPort.free()};
        int[] adminPorts = {LoopbackPort.free(), LoopbackPort.free()};
        String group = "127.0.0.1:" + peerPorts[0] + ",127.0.0.2:" + peerPorts[1] + ",127.0.0.3:" + peerPorts[2];
        Path[] mounts = {scratch.dir("m1"), scratch.dir("m2")};
        DaemonProcess[] daemons = new DaemonProcess[2];
        try {
            for (int i = 0; i < 2; i++) {
                // by READ requests only: the second member may hold a file whole before it opens it (it
                // loaded every block the first asked of it as the block's owner), and reads of a
                // passthrough open are not counted, so the reads line would miss them
                daemons[i] = DaemonProcess.start(scratch, mounts[i], "mount", "--source", source.toString(),
                        "--mount", mounts[i].toString(), "--capacity", "256M", "--no-passthrough", "--listen",
                        "127.0.0." + (i + 1) + ":" + peerPorts[i], "--peers", group, "--peer-token-file",
                        token.toString(), "--admin", "127.0.0." + (i + 1) + ":" + adminPorts[i]);
            }
            for (DaemonProcess daemon : daemons) {
                daemon.awaitMounted(Duration.ofSeconds(30));
            }
            for (Path mount : mounts) {
                Digests.sha256(mount.resolve("models/big.safetensors"));
                Digests.sha256(mount.resolve("small.json"));
            }
            String second = "127.0.0.2:" + adminPorts[1];
            InProcessCli.Outcome status = statusOf(second);
            assertEquals(0, status.exit(), status.stderr());
            String text = status.stdout();
            assertTrue(text.contains("cachefs on " + second + ": pid " + daemons[1].pid()), text);
            assertTrue(text.contains(mounts[1].toString() + "  (source " + source + ")"), text);
            assertTrue(Pattern.compile("memory +32 MiB of 256 MiB \\(13%\\); 2 files whole, 0 in part").matcher(text)
                    .find(), text);
            // the second member read what the first had loaded: from the peer tier, not the source
            Matcher reads = Pattern.compile("reads +32 MiB: memory \\S+ \\S+ \\(\\S+\\), peer (\\S+) MiB \\((\\S+)%\\), "
                    + "source (\\S+) (\\S+) \\(\\S+\\); block hit ratio").matcher(text);
            assertTrue(reads.find(), text);
            assertTrue(Double.parseDouble(reads.group(1)) > 0, text);
            assertTrue(Pattern.compile("biggest +models/big.safetensors +24 MiB +75%\n +small.json +8 MiB +25%")
                    .matcher(text).find(), text);
            assertTrue(Pattern.compile("evictions +0 blocks").matcher(text).find(), text);
            assertTrue(Pattern.compile("source +\\S+ \\S+ read in \\d+ opens?").matcher(text).find(), text);
            assertTrue(Pattern.compile("peers +2 of 3 up").matcher(text).find(), text);
            assertTrue(Pattern.compile("127.0.0.1:" + peerPorts[0] + " +live").matcher(text).find(), text);
            assertTrue(Pattern.compile("127.0.0.2:" + peerPorts[1] + " +this instance").matcher(text).find(), text);
            assertTrue(Pattern.compile("127.0.0.3:" + peerPorts[2] + " +down \\(\\d+ failures in a row\\)").matcher(text)
                    .find(), text);

            InProcessCli.Outcome json = InProcessCli.execute("status", "--admin", second, "--json");
            assertEquals(0, json.exit(), json.stderr());
            assertTrue(json.stdout().contains("\"biggestFiles\":[{\"path\":\"models/big.safetensors\""), json.stdout());
        } finally {
            for (DaemonProcess daemon : daemons) {
                if (daemon != null) {
                    daemon.close();
                }
            }
        }
    }

    /** The third member only shows as down once the second has tried it: status is asked until it does. */
    private static InProcessCli.Outcome statusOf(String admin) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            InProcessCli.Outcome outcome = InProcessCli.execute("status", "--admin", admin);
            if (outcome.stdout().contains("down (") || System.nanoTime() > deadline) {
                return outcome;
            }
            Thread.sleep(200);
        }
    }

    @Test
    void noDaemonIsExitOneWithWhatToDo() throws Exception {
        int port = LoopbackPort.free();
        InProcessCli.Outcome outcome = InProcessCli.execute("status", "--admin", "127.0.0.1:" + port);
        assertEquals(1, outcome.exit());
        assertEquals("cachefs: no cachefs daemon answers on http://127.0.0.1:" + port + ": start it with --admin "
                + "127.0.0.1:9100, or pass its address with --admin HOST:PORT\n", outcome.stderr());
    }

    @Test
    void aMalformedAddressIsBadInput() throws Exception {
        InProcessCli.Outcome outcome = InProcessCli.execute("status", "--admin", "localhost");
        assertEquals(2, outcome.exit());
        assertTrue(outcome.stderr().startsWith("cachefs: --admin \"localhost\" is not host:port"), outcome.stderr());
        assertTrue(Files.exists(scratch.root()));
    }
}
