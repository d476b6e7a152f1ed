package io.cachefs.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import io.cachefs.peer.TestCertificates;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every mistake a user can make on the command line or in a service file ends the same way: exit
 * code 2, one line on stderr that starts with "cachefs: " and names the problem, no stack trace,
 * the source untouched and nothing left mounted.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
@ExtendWith(FaultTable.BadInputs.class)
class BadInputTest {
    private ScratchDir scratch;
    private Path source;
    private Path mount;
    private Map<String, String> sourceBefore;

    @BeforeEach
    void setUp() throws Exception {
        scratch = new ScratchDir();
        source = scratch.dir("source");
        scratch.file("source/model.safetensors", 300_000, 1);
        scratch.file("source/lora/style.bin", 70_000, 2);
        mount = scratch.dir("mount");
        sourceBefore = snapshot(source);
    }

    @AfterEach
    void tearDown() throws Exception {
        scratch.close();
    }

    /** Names, types, sizes and modification times of everything in a tree, the root included. */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.toList()) {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                entries.put(root.relativize(path).toString(), (a.isDirectory() ? "dir " : "file ") + a.size() + " "
                        + a.lastModifiedTime().toInstant());
            }
        }
        return entries;
    }

    /** Checks the outcome every refusal must have; {@code mentions} are what the line must name. */
    private void assertRefused(int exit, String stderr, String... mentions) throws IOException {
        List<String> lines = stderr.lines().toList();
        assertEquals(1, lines.size(), "exactly one line on stderr, got:\n" + stderr);
        String line = lines.getFirst();
        assertTrue(line.startsWith("cachefs: "), line);
        for (String mention : mentions) {
            assertTrue(line.contains(mention), "the message names " + mention + ": " + line);
        }
        assertFalse(stderr.contains("Exception"), "no exception class in: " + stderr);
        assertFalse(stderr.contains("\tat "), "no stack trace in: " + stderr);
        assertEquals(2, exit, "exit code for a user error; stderr: " + stderr);
        assertEquals(sourceBefore, snapshot(source), "nothing in the source changed");
        assertEquals(List.of(), MountTable.mountsUnder(scratch.root()), "nothing left mounted");
    }

    private void assertRefusedInProcess(String[] args, String... mentions) throws IOException, InterruptedException {
        InProcessCli.Outcome outcome = InProcessCli.execute(args);
        assertRefused(outcome.exit(), outcome.stderr(), mentions);
    }

    private String[] mountArgs(String... more) {
        return Stream.concat(Stream.of("mount", "--source", source.toString(), "--mount", mount.toString()),
                Stream.of(more)).toArray(String[]::new);
    }

    @Test
    void missingSourceDirectoryIsRefused() throws Exception {
        Path missing = scratch.resolve("no-such-source");
        assertRefusedInProcess(new String[]{"mount", "--source", missing.toString(), "--mount", mount.toString(),
                "--capacity", "64M"}, missing.toString(), "does not exist");
    }

    @Test
    void sourceThatIsAFileIsRefused() throws Exception {
        Path file = source.resolve("model.safetensors");
        assertRefusedInProcess(new String[]{"mount", "--source", file.toString(), "--mount", mount.toString(),
                "--capacity", "64M"}, file.toString(), "is not a directory");
    }

    @Test
    void missingMountPointIsRefused() throws Exception {
        Path missing = scratch.resolve("no-such-mount");
        assertRefusedInProcess(new String[]{"mount", "--source", source.toString(), "--mount", missing.toString(),
                "--capacity", "64M"}, "mount point " + missing, "does not exist");
        assertFalse(Files.exists(missing), "the mount point is not created behind the user's back");
    }

    @Test
    void nonEmptyMountPointIsRefused() throws Exception {
        scratch.text("mount/keep-me.txt", "user data");
        assertRefusedInProcess(mountArgs("--capacity", "64M"), "mount point " + mount, "is not empty");
        assertEquals("user data", Files.readString(mount.resolve("keep-me.txt")), "the mount point's content is untouched");
    }

    @Test
    void mountPointThatIsAlreadyMountedIsRefusedAndTheRunningMountKeepsServing() throws Exception {
        try (DaemonProcess first = DaemonProcess.start(scratch, mount, mountArgs("--capacity", "64M"))
                .awaitMounted(Duration.ofSeconds(20));
             DaemonProcess second = DaemonProcess.start(scratch, mount, mountArgs("--capacity", "64M"))) {
            assertTrue(second.awaitExit(Duration.ofSeconds(30)), "the second daemon gives up instead of serving");
            List<String> lines = second.stderr().lines().toList();
            assertEquals(1, lines.size(), "exactly one line on stderr, got:\n" + second.stderr());
            String line = lines.getFirst();
            assertTrue(line.startsWith("cachefs: ") && line.contains(mount.toString()) && line.contains("already mounted"),
                    line);
            assertFalse(second.stderr().contains("Exception") || second.stderr().contains("\tat "), second.stderr());
            assertEquals(2, second.exitValue());

            assertEquals(1, MountTable.mountsOn(mount), "no second mount stacked on the first");
            assertTrue(first.isAlive(), "the running daemon is not disturbed");
            assertEquals(Files.size(source.resolve("lora/style.bin")), Files.readAllBytes(mount.resolve("lora/style.bin")).length,
                    "the running mount still serves reads");
            assertEquals(sourceBefore, snapshot(source), "nothing in the source changed");
        }
        assertEquals(List.of(), MountTable.mountsUnder(scratch.root()), "the first daemon unmounted on close");
    }

    @Test
    void zeroCapacityIsRefused() throws Exception {
        assertRefusedInProcess(mountArgs("--capacity", "0"), "capacity", "greater than zero");
    }

    @Test
    void capacityWithUnknownUnitIsRefused() throws Exception {
        assertRefusedInProcess(mountArgs("--capacity", "20X"), "--capacity", "\"20X\" is not a size");
    }

    @Test
    void missingCapacityIsRefused() throws Exception {
        assertRefusedInProcess(mountArgs(), "--capacity");
    }

    @Test
    void unknownFlagIsRefused() throws Exception {
        assertRefusedInProcess(mountArgs("--capacity", "64M", "--frobnicate"), "--frobnicate");
    }

    @Test
    void blockSizeThatIsNotAPowerOfTwoIsRefused() throws Exception {
        assertRefusedInProcess(mountArgs("--capacity", "64M", "--block-size", "3M"), "block size 3 MiB", "power of two");
    }

    @Test
    void unknownKernelCacheModeIsRefused() throws Exception {
        assertRefusedInProcess(mountArgs("--capacity", "64M", "--kernel-cache", "maybe"), "--kernel-cache", "maybe",
                "keep or off");
    }

    @Test
    void runWithMissingServiceFileIsRefused() throws Exception {
        Path missing = scratch.resolve("no-such-service.json");
        assertRefusedInProcess(new String[]{"run", "--config", missing.toString()}, missing.toString(), "does not exist");
    }

    @Test
    void runWithMalformedJsonIsRefused() throws Exception {
        Path config = scratch.text("service.json", "{ \"storage\": [ {\"mount_path\": \"" + mount + "\", }");
        assertRefusedInProcess(new String[]{"run", "--config", config.toString()}, config.toString(), "not valid JSON",
                "line 1");
    }

    /** A service file in the reference format, with a second, cache entry built from {@code cache}. */
    private Path serviceFile(String cache) throws IOException {
        return scratch.text("service.json", """
                { "name": "svc",
                  "storage": [
                    {"mount_path": "%s", "oss": {"path": "oss://bucket/models"}},
                    {"mount_path": "%s", "cache": %s} ] }
                """.formatted(source, mount, cache));
    }

    @Test
    void runWithCapacityThatIsNotASizeIsRefusedNamingTheField() throws Exception {
        Path config = serviceFile("{\"capacity\": \"lots\", \"path\": \"" + source + "\"}");
        assertRefusedInProcess(new String[]{"run", "--config", config.toString()}, config.toString(),
                "storage[1].cache.capacity", "\"lots\" is not a size");
    }

    @Test
    void runWithCachePathThatDoesNotExistIsRefusedNamingTheField() throws Exception {
        Path missing = scratch.resolve("no-such-source");
        Path config = serviceFile("{\"capacity\": \"64M\", \"path\": \"" + missing + "\"}");
        assertRefusedInProcess(new String[]{"run", "--config", config.toString()}, config.toString(),
                "storage[1].cache.path", missing.toString(), "does not exist");
    }

    @Test
    void noCommandIsAUsageErrorNotASuccess() throws Exception {
        InProcessCli.Outcome outcome = InProcessCli.execute();
        assertEquals(2, outcome.exit(), outcome.stderr());
        assertTrue(outcome.stderr().contains("cachefs: no command given"), outcome.stderr());
    }

    @Test
    void mountPointThatIsAFileIsRefusedSayingSo() throws Exception {
        Path file = scratch.file("not-a-dir", 10, 3);
        assertRefusedInProcess(new String[]{"mount", "--source", source.toString(), "--mount", file.toString(),
                "--capacity", "64M"}, "mount point " + file, "is not a directory");
    }

    @Test
    void capacityAboveTheMachinesMemoryIsRefusedUnlessForced() throws Exception {
        assertRefusedInProcess(mountArgs("--capacity", "100T"), "100 TiB", "memory", "--force");
    }

    @Test
    void aBareNumberAsCapacityInTheServiceFileIsRefusedWithTheUnitToWrite() throws Exception {
        Path config = serviceFile("{\"capacity\": 20, \"path\": \"" + source + "\"}");
        assertRefusedInProcess(new String[]{"run", "--config", config.toString()}, "capacity", "20G");
    }

    // ---- Peer TLS: checked before anything is mounted -------------------------------------------

    /** A peer group's flags around {@code tls}, ready to mount but for the TLS files. */
    private String[] groupArgs(String... tls) throws IOException {
        Path token = scratch.text("token", "s3cret\n");
        return Stream.concat(Stream.of(mountArgs("--capacity", "64M", "--listen", "127.0.0.1:17070", "--peers",
                "127.0.0.1:17070", "--peer-token-file", token.toString())), Stream.of(tls)).toArray(String[]::new);
    }

    private TestCertificates.Pem groupCertificate() throws IOException {
        return TestCertificates.selfSigned(scratch.dir("tls"), "group");
    }

    @Test
    void peerTlsCertWithoutItsKeyIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        assertRefusedInProcess(groupArgs("--peer-tls-cert", pem.cert().toString()), "--peer-tls-cert needs --peer-tls-key");
    }

    @Test
    void peerTlsKeyWithoutItsCertIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        assertRefusedInProcess(groupArgs("--peer-tls-key", pem.key().toString()), "--peer-tls-key needs --peer-tls-cert");
    }

    @Test
    void peerTlsWithoutAPeerGroupIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        assertRefusedInProcess(mountArgs("--capacity", "64M", "--peer-tls-cert", pem.cert().toString(),
                "--peer-tls-key", pem.key().toString()), "--peer-tls-cert needs --listen");
    }

    @Test
    void missingPeerTlsCertFileIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        Path missing = scratch.resolve("tls/no-such.pem");
        assertRefusedInProcess(groupArgs("--peer-tls-cert", missing.toString(), "--peer-tls-key", pem.key().toString()),
                "--peer-tls-cert " + missing, "does not exist");
    }

    @Test
    void unreadablePeerTlsKeyIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        Path directory = scratch.dir("tls/a-directory.key"); // unreadable as a file, even for root
        assertRefusedInProcess(groupArgs("--peer-tls-cert", pem.cert().toString(), "--peer-tls-key",
                directory.toString()), "--peer-tls-key " + directory, "cannot be read");
    }

    @Test
    void peerTlsCertThatIsNotPemIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        Path garbage = scratch.text("tls/garbage.pem", "not a certificate\n");
        assertRefusedInProcess(groupArgs("--peer-tls-cert", garbage.toString(), "--peer-tls-key", pem.key().toString()),
                "--peer-tls-cert " + garbage, "is not a PEM certificate");
    }

    @Test
    void peerTlsKeyOfAnotherCertificateIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        TestCertificates.Pem other = TestCertificates.selfSigned(scratch.dir("tls"), "other");
        assertRefusedInProcess(groupArgs("--peer-tls-cert", pem.cert().toString(), "--peer-tls-key",
                other.key().toString()), "--peer-tls-key " + other.key(), "does not match the certificate");
    }

    @Test
    void peerTlsKeyNotInPkcs8IsRefusedWithTheCommandThatConvertsIt() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        Path traditional = TestCertificates.traditionalKey(pem, scratch.resolve("tls"));
        assertRefusedInProcess(groupArgs("--peer-tls-cert", pem.cert().toString(), "--peer-tls-key",
                traditional.toString()), "--peer-tls-key " + traditional, "PKCS#8", "openssl pkcs8 -topk8 -nocrypt");
    }

    @Test
    void expiredPeerTlsCertIsRefused() throws Exception {
        TestCertificates.Pem expired = TestCertificates.dated(scratch.dir("tls"), "expired", "20200101000000Z",
                "20200201000000Z");
        assertRefusedInProcess(groupArgs("--peer-tls-cert", expired.cert().toString(), "--peer-tls-key",
                expired.key().toString()), "--peer-tls-cert " + expired.cert(), "expired on 2020-02-01");
    }

    @Test
    void notYetValidPeerTlsCertIsRefused() throws Exception {
        TestCertificates.Pem future = TestCertificates.dated(scratch.dir("tls"), "future", "20991231000000Z",
                "21001231000000Z");
        assertRefusedInProcess(groupArgs("--peer-tls-cert", future.cert().toString(), "--peer-tls-key",
                future.key().toString()), "--peer-tls-cert " + future.cert(), "not valid before 2099-12-31",
                "clock");
    }

    @Test
    void peerTlsCertNotSignedByTheTrustedCaIsRefused() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        TestCertificates.Pem otherCa = TestCertificates.selfSigned(scratch.dir("tls"), "other-ca");
        assertRefusedInProcess(groupArgs("--peer-tls-cert", pem.cert().toString(), "--peer-tls-key",
                pem.key().toString(), "--peer-tls-trust", otherCa.cert().toString()),
                "--peer-tls-cert " + pem.cert(), "is not trusted by --peer-tls-trust " + otherCa.cert());
    }

    @Test
    void runWithPeerTlsCertButNoKeyIsRefusedNamingTheField() throws Exception {
        TestCertificates.Pem pem = groupCertificate();
        Path token = scratch.text("token", "s3cret\n");
        Path config = serviceFile("{\"capacity\": \"64M\", \"path\": \"" + source + "\", \"listen\": \"127.0.0.1:17070\", "
                + "\"peers\": \"127.0.0.1:17070\", \"peer_token_file\": \"" + token + "\", \"peer_tls_cert\": \""
                + pem.cert() + "\"}");
        assertRefusedInProcess(new String[]{"run", "--config", config.toString()}, "storage[1].cache",
                "--peer-tls-cert needs --peer-tls-key", "cache.peer_tls_key");
    }
}
