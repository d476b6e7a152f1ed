package io.cachefs.fuse;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A mounting daemon in a process of its own, ended by signals as a service manager would. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class DaemonSignalTest {
    private Path dir;
    private Process daemon;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("cachefs-daemon-test");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null && daemon.isAlive()) {
            daemon.destroyForcibly().waitFor();
        }
        Shell.forceUnmount(dir);
        Files.deleteIfExists(dir);
    }

    private Process startDaemon() throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), MemoryFsProcess.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = out.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.equals("mounted")) {
                Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));
                return process;
            }
        }
        throw new AssertionError("daemon did not mount:\n" + seen);
    }

    @Test
    void sigtermUnmountsAndExits() throws Exception {
        daemon = startDaemon();
        assertTrue(Shell.isMountPoint(dir));
        assertEquals(4096, Files.size(dir.resolve("hello")));
        Shell.ok("kill", "-TERM", Long.toString(daemon.pid()));
        assertTrue(daemon.waitFor(20, TimeUnit.SECONDS), "daemon exits on SIGTERM");
        assertFalse(Shell.isMountPoint(dir), "SIGTERM unmounts");
    }

    @Test
    void nextMountRecoversStaleMountOfKilledDaemon() throws Exception {
        daemon = startDaemon();
        Shell.ok("kill", "-KILL", Long.toString(daemon.pid()));
        daemon.waitFor(20, TimeUnit.SECONDS);
        assertTrue(Shell.isMountPoint(dir), "a SIGKILLed daemon leaves its mount behind");
        Shell.Result stale = Shell.run("ls", dir.toString());
        assertTrue(stale.err().contains("Transport endpoint is not connected"), stale.err());

        daemon = startDaemon();
        assertEquals(4096, Files.size(dir.resolve("hello")), "the new daemon serves the mount point again");
    }
}
