package io.cachefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.LoopbackPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Peers that misbehave, against real daemons: a member that is stopped (SIGSTOP) or that accepts
 * connections and never answers. Each case records its tries and outcome in the
 * {@link FaultTable} that docs/RELIABILITY.md reports.
 */
@org.junit.jupiter.api.Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class PeerFaultTest {
    private static final long MIB = 1 << 20;
    private static final String TOKEN = "s3cret-token-for-peer-faults";
    /** What "one short timeout" may cost a whole read, with room for a loaded machine: today's stall was 22 s. */
    private static final long SHORT_MILLIS = 8_000;

    private ScratchDir scratch;
    private Path folder;
    private Path tokenFile;
    private Path groupFile;
    private final List<DaemonProcess> daemons = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        scratch = new ScratchDir();
        folder = scratch.dir("source");
        tokenFile = scratch.text("token", TOKEN + "\n");
        groupFile = scratch.resolve("group");
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (DaemonProcess daemon : daemons) {
                signal("CONT", daemon.pid()); // a stopped daemon cannot hear SIGTERM
                daemon.close();
            }
        } finally {
            scratch.close();
        }
    }

    private DaemonProcess member(int n, int peerPort, String... extra) throws Exception {
        return member(List.of(), n, peerPort, extra);
    }

    /** Member {@code n} of the group, started behind {@code prefix} (e.g. prlimit). */
    private DaemonProcess member(List<String> prefix, int n, int peerPort, String... extra) throws Exception {
        Path mount = scratch.dir("mount-" + n);
        List<String> args = new ArrayList<>(List.of("mount", "--source", folder.toString(), "--mount",
                mount.toString(), "--capacity", "512M", "--listen", "127.0.0." + n + ":" + peerPort,
                "--peers", "file:" + groupFile, "--peer-token-file", tokenFile.toString(), "--no-passthrough",
                "--kernel-cache", "off"));
        args.addAll(List.of(extra));
        DaemonProcess daemon = DaemonProcess.start(scratch, List.of(mount), prefix, List.of(),
                args.toArray(String[]::new));
        daemons.add(daemon);
        return daemon.awaitMounted(Duration.ofSeconds(30));
    }

    private Path mountOf(int n) {
        return scratch.resolve("mount-" + n);
    }


    private static void signal(String name, long pid) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start().waitFor();
    }

    /** Reads {@code file} through the mount and returns how long it took, checking every byte. */
    private static long timedRead(Path file, Path original) throws IOException {
        long start = System.nanoTime();
        assertEquals(Digests.sha256(original), Digests.sha256(file), "the right bytes, whatever the peer does");
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void aMemberThatAcceptsAndNeverAnswersCostsOneShortTimeout() throws Exception {
        scratch.file("source/m.bin", 64 * MIB, 7);
        // a listening socket nobody accepts on: the kernel completes connects and takes requests, as for a hung daemon
        try (ServerSocket silent = new ServerSocket()) {
            silent.bind(new InetSocketAddress("127.0.0.2", 0), 64);
            int port = LoopbackPort.free();
            Files.writeString(groupFile, "127.0.0.1:" + port + "\n127.0.0.2:" + silent.getLocalPort() + "\n");
            member(1, port);
            int tries = 2;
            long first = timedRead(mountOf(1).resolve("m.bin"), folder.resolve("m.bin"));
            assertTrue(first < SHORT_MILLIS, "a silent member cost " + first + " ms; one short timeout was due");
            scratch.file("source/n.bin", 64 * MIB, 8);
            long second = timedRead(mountOf(1).resolve("n.bin"), folder.resolve("n.bin"));
            assertTrue(second < SHORT_MILLIS, "the next file cost " + second + " ms: the back-off must hold");
            FaultTable.record("peer accepts connections and never answers", tries,
                    "the read pays one short timeout (" + Math.max(first, second) / 1000 + " s at most here), then "
                            + "the member is skipped for a back-off; bytes right");
        }
    }

    @Test
    void aStoppedMemberHoldingTheBlocksCostsTheReaderOneShortTimeout() throws Exception {
        Path file = scratch.file("source/m.bin", 64 * MIB, 9);
        int portA = LoopbackPort.free();
        int portB = LoopbackPort.free();
        Files.writeString(groupFile, "127.0.0.1:" + portA + "\n127.0.0.2:" + portB + "\n");
        member(1, portA);
        DaemonProcess b = member(2, portB);
        assertEquals(Digests.sha256(file), Digests.sha256(mountOf(2).resolve("m.bin"))); // B holds every block
        Thread.sleep(1000); // B has told the trackers
        signal("STOP", b.pid());
        long took = timedRead(mountOf(1).resolve("m.bin"), file);
        assertTrue(took < SHORT_MILLIS, "a stopped member cost the reader " + took + " ms (it was 22 s)");
        FaultTable.record("peer holding the blocks stopped (SIGSTOP)", 1,
                "the reader pays one short timeout (" + took / 1000 + " s here), owner loads and holder lists "
                        + "skip it too; bytes right from the source");
    }

    private static double rejectedConnections(int admin) throws IOException {
        String metrics = new String(java.net.URI.create("http://127.0.0.1:" + admin + "/metrics").toURL().openStream()
                .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        java.util.regex.Matcher rejected = java.util.regex.Pattern.compile(
                "cachefs_peer_port_events_total\\{[^}]*event=\"connection_rejected\"[^}]*} (\\S+)").matcher(metrics);
        assertTrue(rejected.find(), "the rejected connections are exported");
        return Double.parseDouble(rejected.group(1));
    }

    @Test
    void aFloodOfIdleConnectionsLeavesReadsWorking() throws Exception {
        Path file = scratch.file("source/m.bin", 32 * MIB, 10);
        int port = LoopbackPort.free();
        int admin = LoopbackPort.free();
        Files.writeString(groupFile, "127.0.0.1:" + port + "\n");
        // the descriptor limit of a typical service unit: 1,100 connections would take them all
        // the admin port binds after the mount appears: flooding before it is up could take the descriptors it needs
        member(List.of("prlimit", "--nofile=1024:1024", "--"), 1, port, "--admin", "127.0.0.1:" + admin)
                .awaitAdmin("127.0.0.1", admin, Duration.ofSeconds(30));
        int flood = 1100;
        List<java.net.Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < flood; i++) {
                java.net.Socket socket = new java.net.Socket();
                sockets.add(socket);
                socket.bind(new InetSocketAddress("127.0.0." + (10 + i % 11), 0));
                socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            }
            long took = timedRead(mountOf(1).resolve("m.bin"), file);
            assertTrue(took < SHORT_MILLIS, "a read behind a connection flood took " + took + " ms");
            // while the flood is open: the server accepts it all (and closes what is over the caps) at once
            double rejected = 0;
            for (long end = System.nanoTime() + 4_000_000_000L; rejected < flood - 512 && System.nanoTime() < end; ) {
                rejected = rejectedConnections(admin);
                Thread.sleep(100);
            }
            assertTrue(rejected >= flood - 512, "connections over the caps were closed and counted: " + rejected);
        } finally {
            for (java.net.Socket socket : sockets) {
                socket.close();
            }
        }
        FaultTable.record("peer port flooded with idle connections (1,100, descriptor limit 1024)", 1,
                "connections over the caps (64 per address, 512 in all) closed at accept and counted; FUSE reads "
                        + "kept working");
    }
}
