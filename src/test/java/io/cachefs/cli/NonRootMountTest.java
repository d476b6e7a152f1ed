package io.cachefs.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cachefs mount} as a user who is not root: a system user this test creates (and
 * removes), mounting through fusermount3, with passthrough off; the mount serves the source's
 * bytes to that user and SIGTERM unmounts it.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class NonRootMountTest {
    private static final Path FUSE = Path.of("/dev/fuse");

    private final String user = "cachefs-t" + ProcessHandle.current().pid() % 100_000;
    private ScratchDir scratch;
    private String fuseMode;

    @BeforeEach
    void setUp() throws Exception {
        scratch = new ScratchDir();
        run("useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", user);
        fuseMode = PosixFilePermissions.toString(Files.getPosixFilePermissions(FUSE));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            Files.setPosixFilePermissions(FUSE, PosixFilePermissions.fromString(fuseMode));
            scratch.close();
        } finally {
            run("userdel", user);
            // what a JVM of that user may leave (the daemon runs with -XX:-UsePerfData, so none)
            assertFalse(Files.exists(Path.of(System.getProperty("java.io.tmpdir"), "hsperfdata_" + user)));
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), String.join(" ", command) + ":\n" + out);
        return out;
    }

    private List<String> asUser() {
        return List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups", "--");
    }

    /** The test classpath copied where the user can read it (not under root's home). */
    private String readableClasspath() throws IOException {
        Path dir = scratch.dir("classpath");
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path from = Path.of(entry);
            Path to = dir.resolve(n++ + "-" + from.getFileName());
            if (Files.isDirectory(from)) {
                try (Stream<Path> files = Files.walk(from)) {
                    for (Path file : files.toList()) {
                        Path target = to.resolve(from.relativize(file).toString());
                        if (Files.isDirectory(file)) {
                            Files.createDirectories(target);
                        } else {
                            Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            } else if (Files.exists(from)) {
                Files.copy(from, to);
            }
            entries.add(to.toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    @Test
    void aUserMountsThroughFusermountWithPassthroughOffAndSigtermUnmounts() throws Exception {
        Path source = scratch.dir("source");
        Path file = scratch.file("source/model.safetensors", (9L << 20) + 77, 1);
        Path mount = scratch.dir("mount");
        String classpath = readableClasspath();
        run("chmod", "-R", "a+rX", scratch.root().toString());
        run("chown", user + ":" + user, mount.toString());
        String expected = Digests.sha256(file);

        // /dev/fuse is 0600 on this machine; most distributions make it 0666 (fusermount3 opens it as the user)
        Files.setPosixFilePermissions(FUSE, PosixFilePermissions.fromString("rw-rw-rw-"));
        try (DaemonProcess daemon = DaemonProcess.start(scratch, List.of(mount), asUser(), classpath, List.of("-XX:-UsePerfData"), Map.of(),
                "mount", "--source", source.toString(), "--mount", mount.toString(), "--capacity", "64M")) {
            daemon.awaitMounted(Duration.ofSeconds(30));
            Files.setPosixFilePermissions(FUSE, PosixFilePermissions.fromString(fuseMode));

            String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
            String line = mountinfo.lines().filter(l -> l.contains(" " + mount + " ")).findFirst().orElseThrow();
            String uid = run("id", "-u", user).strip();
            assertTrue(line.contains(" - fuse.cachefs cachefs:" + source + " ro,user_id=" + uid + ","), line);

            for (int read = 0; read < 2; read++) { // from the source, then from memory (by READ: no passthrough)
                String sum = run(Stream.concat(asUser().stream(), Stream.of("sha256sum", mount.resolve("model.safetensors")
                        .toString())).toArray(String[]::new));
                assertEquals(expected, sum.split(" ")[0]);
            }
            String log = daemon.stderr();
            assertTrue(log.contains("mounting " + mount + " as uid " + uid + " through fusermount3: passthrough is off "
                    + "(the kernel lets only root hand it backing files)"), log);
            assertTrue(log.contains("(FUSE 7.") && log.contains("passthrough off)"), log);

            daemon.terminate();
            assertTrue(daemon.awaitExit(Duration.ofSeconds(20)), "the daemon exits on SIGTERM");
            assertEquals(0, daemon.exitValue(), daemon.stderr());
            assertFalse(MountTable.isMountPoint(mount), "fusermount3 -u unmounted it:\n" + daemon.stderr());
        }
    }

    @Test
    void withoutAccessToDevFuseTheUserGetsOneLineThatSaysWhatToDo() throws Exception {
        Path source = scratch.dir("source");
        Path mount = scratch.dir("mount");
        String classpath = readableClasspath();
        run("chmod", "-R", "a+rX", scratch.root().toString());
        run("chown", user + ":" + user, mount.toString());
        Files.setPosixFilePermissions(FUSE, PosixFilePermissions.fromString("rw-------"));
        try (DaemonProcess daemon = DaemonProcess.start(scratch, List.of(mount), asUser(), classpath, List.of("-XX:-UsePerfData"), Map.of(),
                "mount", "--source", source.toString(), "--mount", mount.toString(), "--capacity", "64M")) {
            assertTrue(daemon.awaitExit(Duration.ofSeconds(30)));
            assertEquals(2, daemon.exitValue());
            String uid = run("id", "-u", user).strip();
            assertEquals("cachefs: /dev/fuse is not open to uid " + uid + ": make it readable and writable by users "
                    + "(chmod 0666 /dev/fuse, as udev does on most systems) or run as root\n", daemon.stderr());
            assertFalse(MountTable.isMountPoint(mount));
        }
    }
}
