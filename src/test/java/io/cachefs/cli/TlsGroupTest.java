package io.cachefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.LoopbackPort;
import io.cachefs.peer.TestCertificates;
import io.cachefs.peer.TestCertificates.Pem;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A peer group over mutual TLS, with real daemons on 127.0.0.1 and 127.0.0.2 and certificates
 * made by openssl as the README says: a new member reads a file from a warm member's memory; a
 * member with plain TCP in a TLS group, TLS in a plain group, or another group's certificate gets
 * no bytes from it, reads the source instead (the right bytes), and says why. Each case records
 * a row of the {@link FaultTable}.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class TlsGroupTest {
    private static final long MIB = 1 << 20;
    private static final long SIZE = 48 * MIB;
    private static final String TOKEN = "s3cret-token-for-tls";
    private static final String HINT = "are all members started with --peer-tls-*?";

    private ScratchDir scratch;
    private Path folder;
    private Path file;
    private Path tokenFile;
    private Pem group;
    private int portA;
    private final List<DaemonProcess> daemons = new ArrayList<>();

    /** One daemon: its mount and admin port. */
    private record Member(DaemonProcess daemon, Path mount, String host, int admin) {}

    @BeforeEach
    void setUp() throws IOException {
        scratch = new ScratchDir();
        folder = scratch.dir("source");
        file = scratch.file("source/model.bin", SIZE, 21);
        tokenFile = scratch.text("token", TOKEN + "\n");
        group = TestCertificates.selfSigned(scratch.dir("tls"), "group");
        portA = LoopbackPort.free();
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (DaemonProcess daemon : daemons) {
                daemon.close();
            }
        } finally {
            scratch.close();
        }
    }

    private static List<String> tls(Pem pem) {
        return List.of("--peer-tls-cert", pem.cert().toString(), "--peer-tls-key", pem.key().toString());
    }

    /** Member {@code n} on 127.0.0.n, knowing {@code peers}, with {@code extra} options (TLS or none). */
    private Member member(int n, int port, String peers, List<String> extra) throws Exception {
        Path mount = scratch.dir("mount-" + n);
        int admin = LoopbackPort.free();
        List<String> args = new ArrayList<>(List.of("mount", "--source", folder.toString(), "--mount",
                mount.toString(), "--capacity", "256M", "--listen", "127.0.0." + n + ":" + port, "--peers", peers,
                "--peer-token-file", tokenFile.toString(), "--admin", "127.0.0." + n + ":" + admin,
                "--no-passthrough", "--kernel-cache", "off"));
        args.addAll(extra);
        DaemonProcess daemon = DaemonProcess.start(scratch, mount, args.toArray(String[]::new));
        daemons.add(daemon);
        daemon.awaitMounted(Duration.ofSeconds(30)).awaitAdmin("127.0.0." + n, admin, Duration.ofSeconds(30));
        return new Member(daemon, mount, "127.0.0." + n, admin);
    }

    /** A warm first member A, alone in its view of the group, holding the whole file. */
    private Member warmA(List<String> extra) throws Exception {
        Member a = member(1, portA, "127.0.0.1:" + portA, extra);
        assertEquals(Digests.sha256(file), Digests.sha256(a.mount().resolve("model.bin")));
        return a;
    }

    /** B, which knows A: on a miss it asks A's memory first. */
    private Member newB(List<String> extra) throws Exception {
        int portB = LoopbackPort.free();
        return member(2, portB, "127.0.0.1:" + portA + ",127.0.0.2:" + portB, extra);
    }

    private static double metric(Member member, String name, String labels) throws IOException {
        String text = new String(URI.create("http://" + member.host() + ":" + member.admin() + "/metrics").toURL()
                .openStream().readAllBytes(), StandardCharsets.UTF_8);
        return MetricsText.sum(text, name, labels);
    }

    @Test
    void aNewMemberOfATlsGroupReadsTheFileFromTheWarmMembersMemory() throws Exception {
        Member a = warmA(tls(group));
        Member b = newB(tls(group));
        assertEquals(Digests.sha256(file), Digests.sha256(b.mount().resolve("model.bin")), "the right bytes");
        assertEquals(0, metric(b, "cachefs_source_read_bytes_total", ""), "nothing from the source");
        assertEquals(SIZE, metric(b, "cachefs_read_bytes_total", "tier=\"peer\""), "every byte from A's memory");
        assertEquals(SIZE, metric(b, "cachefs_peer_fetched_bytes_total", "peer=\"127.0.0.1:" + portA + "\""));
        assertEquals(0, metric(a, "cachefs_peer_port_events_total", "event=\"tls_refused\""));
        FaultTable.record("peer group over mutual TLS (--peer-tls-cert/--peer-tls-key, one group certificate)", 1,
                "a new member reads a " + SIZE / MIB + " MiB file from the warm member's memory, 0 source bytes; "
                        + "bytes right");
    }

    @Test
    void aPlainMemberOfATlsGroupReadsTheSourceAndSaysWhy() throws Exception {
        Member a = warmA(tls(group));
        Member b = newB(List.of());
        assertMismatchFallsBackToTheSource(a, b);
        FaultTable.record("plain member in a TLS group (no --peer-tls-*)", 1,
                "the TLS port answers 426 and closes; the member counts tls_handshake, logs once why, reads the "
                        + "source; bytes right");
    }

    @Test
    void aTlsMemberOfAPlainGroupReadsTheSourceAndSaysWhy() throws Exception {
        Member a = warmA(List.of());
        Member b = newB(tls(group));
        assertMismatchFallsBackToTheSource(a, b);
        FaultTable.record("TLS member in a plain group", 1,
                "no TLS handshake: the member counts tls_handshake, logs once why, reads the source; bytes right");
    }

    @Test
    void aMemberWithAnotherGroupsCertificateGetsNoPeerHits() throws Exception {
        Member a = warmA(tls(group));
        Pem foreign = TestCertificates.selfSigned(scratch.dir("foreign"), "another-group");
        Member b = newB(tls(foreign));
        assertMismatchFallsBackToTheSource(a, b);
        assertTrue(metric(a, "cachefs_peer_port_events_total", "event=\"tls_refused\"") > 0,
                "A counts the refused handshakes");
        FaultTable.record("member with another CA's certificate", 1,
                "the handshake fails both ways (each refuses the other's certificate), no request is read; the member "
                        + "reads the source; bytes right");
    }

    /** B got nothing from A, read every byte from the source, counted and logged why. */
    private void assertMismatchFallsBackToTheSource(Member a, Member b) throws Exception {
        assertEquals(Digests.sha256(file), Digests.sha256(b.mount().resolve("model.bin")), "the right bytes");
        assertEquals(0, metric(b, "cachefs_read_bytes_total", "tier=\"peer\""), "nothing from A");
        assertEquals(0, metric(b, "cachefs_peer_fetched_bytes_total", ""), "nothing fetched from a peer");
        assertEquals(SIZE, metric(b, "cachefs_source_read_bytes_total", ""), "every byte from the source");
        assertTrue(metric(b, "cachefs_peer_requests_total", "result=\"tls_handshake\"") > 0,
                "the failure is counted as a TLS one");
        String log = b.daemon().stderr();
        assertTrue(log.contains(HINT), "B says why:\n" + log);
        assertEquals(1, log.lines().filter(line -> line.contains(HINT) && line.contains("WARN")).count(),
                "logged once:\n" + log);
        assertEquals(0, metric(a, "cachefs_peer_sent_bytes_total", ""), "A sent nothing");
    }
}
