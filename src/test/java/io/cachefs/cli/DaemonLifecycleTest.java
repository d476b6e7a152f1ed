package io.cachefs.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cachefs mount} as a service manager runs it: started, stopped by SIGTERM, or killed and restarted. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class DaemonLifecycleTest {
    private static final long FILE_SIZE = (5L << 20) + 12_345; // a partial last block at the default 4 MiB

    private ScratchDir scratch;
    private Path source;
    private Path mount;
    private String sourceDigest;

    @BeforeEach
    void setUp() throws Exception {
        scratch = new ScratchDir();
        source = scratch.dir("source");
        sourceDigest = Digests.sha256(scratch.file("source/model.safetensors", FILE_SIZE, 7));
        mount = scratch.dir("mount");
    }

    @AfterEach
    void tearDown() throws Exception {
        scratch.close();
    }

    private DaemonProcess startMount() throws Exception {
        return DaemonProcess.start(scratch, mount, "mount", "--source", source.toString(), "--mount", mount.toString(),
                "--capacity", "64M").awaitMounted(Duration.ofSeconds(20));
    }

    @Test
    void sigtermUnmountsAndExits() throws Exception {
        try (DaemonProcess daemon = startMount()) {
            assertEquals(sourceDigest, Digests.sha256(mount.resolve("model.safetensors")));

            daemon.terminate();
            assertTrue(daemon.awaitExit(Duration.ofSeconds(20)), "the daemon exits within 20 s of SIGTERM");
            assertFalse(MountTable.isMountPoint(mount), "SIGTERM unmounts; stderr:\n" + daemon.stderr());
            assertEquals(0, daemon.exitValue(), "a requested stop is a clean exit for a service manager");
            assertEquals(0, Files.list(mount).count(), "the mount point is an empty directory again");
        }
    }

    @Test
    void nextMountRecoversTheStaleMountOfAKilledDaemon() throws Exception {
        try (DaemonProcess killed = startMount()) {
            assertEquals(sourceDigest, Digests.sha256(mount.resolve("model.safetensors")));
            killed.kill();
            assertTrue(MountTable.isMountPoint(mount), "a SIGKILLed daemon leaves its mount behind");
            FileSystemException stale = assertThrows(FileSystemException.class, () -> Files.list(mount).close());
            assertEquals("Transport endpoint is not connected", stale.getReason());

            try (DaemonProcess next = DaemonProcess.start(scratch, mount, "mount", "--source", source.toString(),
                    "--mount", mount.toString(), "--capacity", "64M")) {
                // the stale mount is already in the mount table: wait until the mount point lists again
                next.awaitListable(mount, Duration.ofSeconds(20));
                assertEquals(1, MountTable.mountsOn(mount), "the stale mount was replaced, not mounted over");
                assertEquals(sourceDigest, Digests.sha256(mount.resolve("model.safetensors")),
                        "reads work through the recovered mount point");
                assertTrue(next.stderr().contains("stale"), "the daemon says it cleared a stale mount:\n" + next.stderr());
            }
        }
        assertFalse(MountTable.isMountPoint(mount));
    }
}
