package io.cachefs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.fuse.SourceMount;
import io.cachefs.linux.Statx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/**
 * A daemon with {@code --store-dir} killed (SIGKILL), stopped (SIGTERM) and started again on the
 * same store: it serves what it held without reading the source, reads anew what changed, and
 * drops what does not verify rather than serve it. The source is the project's counting test
 * mount, so "nothing read from the source" is what the source itself saw.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class RestartTest {
    private static final long MIB = 1 << 20;
    private static final long BLOCK = 4 * MIB;
    /** The bytes of one slot of an index file, one per block, at its end (see StoreIndex). */
    private static final long SLOT_BYTES = 16;

    private DaemonOverSource fixture;
    private SourceMount source;
    private Path mount;
    private Path store;
    private DaemonProcess daemon;

    @BeforeEach
    void setUp() throws Exception {
        fixture = DaemonOverSource.create();
        source = fixture.source;
        mount = fixture.mount;
        store = Files.createTempDirectory(Path.of("/dev/shm"), "cachefs-test-store-");
        source.mkdir("models");
        source.addRandomFile("models/a.safetensors", 16 * MIB, 1);
        source.addRandomFile("models/b.safetensors", 16 * MIB + 12_345, 2); // a short last block
        source.addRandomFile("notes.txt", 100_000, 3);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            fixture.close();
        } finally {
            deleteTree(store);
        }
    }

    @Test
    void aKilledDaemonStartedAgainReadsNothingFromTheSourceForFilesThatDidNotChange() throws Exception {
        start("64M");
        readEverything();
        daemon.kill();
        long before = source.bytesRead();

        restart("64M");
        readEverything();

        assertEquals(0, source.bytesRead() - before, "every byte came from the adopted store");
        assertTrue(daemon.stderr().contains("adopted 32.1 MiB in 10 blocks of 3 files"), daemon.stderr());
    }

    @Test
    void aStoppedDaemonStartedAgainReadsNothingFromTheSourceEither() throws Exception {
        start("64M");
        readEverything();
        daemon.terminate();
        assertTrue(daemon.awaitExit(Duration.ofSeconds(20)));
        assertEquals(0, daemon.exitValue());
        long before = source.bytesRead();

        daemon = fixture.mount(args("64M"));
        readEverything();

        assertEquals(0, source.bytesRead() - before);
    }

    @Test
    void aFileChangedWhileTheDaemonWasDownIsReadAnewNeverServedOld() throws Exception {
        start("64M");
        readEverything();
        daemon.kill();
        source.rewrite("models/a.safetensors", 99);
        long before = source.bytesRead();

        restart("64M");
        assertEquals(source.sha256("models/a.safetensors"), Digests.sha256(mount.resolve("models/a.safetensors")),
                "the new bytes");
        assertEquals(16 * MIB, source.bytesRead() - before, "the changed file is read from the source");
        readEverything();
        assertEquals(16 * MIB, source.bytesRead() - before, "nothing else is");
        assertTrue(daemon.stderr().contains("dropped 1 changed or deleted in the source"), daemon.stderr());
        assertEquals(1, storeFiles(".blocks").stream().filter(p -> p.toString().endsWith("-a.safetensors.blocks"))
                .count(), "one block file of a: the new version's; the old one's is deleted");
    }

    @Test
    void aCorruptedBlockFileIsDroppedNotServed() throws Exception {
        start("64M");
        readEverything();
        daemon.kill();
        Path blocks = storeFile("-a.safetensors.blocks");
        overwrite(blocks, 2 * BLOCK + 4096 + 17, "not the model's bytes".getBytes());
        long before = source.bytesRead();

        restart("64M");
        readEverything(); // compares every file with the source

        assertEquals(BLOCK, source.bytesRead() - before, "only the corrupted block is read again");
        assertTrue(daemon.stderr().contains("dropped 1 blocks whose bytes did not verify"), daemon.stderr());
    }

    @Test
    void aCorruptedOrTruncatedIndexIsTolerated() throws Exception {
        start("64M");
        readEverything();
        daemon.kill();
        overwrite(storeFile("-a.safetensors.index"), 50, new byte[] {0x7f}); // its header: a's path
        Path indexOfB = storeFile("-b.safetensors.index");
        try (FileChannel channel = FileChannel.open(indexOfB, StandardOpenOption.WRITE)) {
            channel.truncate(Files.size(indexOfB) - SLOT_BYTES - 3); // b's last slot goes, the one before is torn
        }
        long before = source.bytesRead();

        restart("64M");
        readEverything();

        assertEquals(16 * MIB + BLOCK + 12_345, source.bytesRead() - before,
                "all of a (its index is unusable) and b's last two blocks (their slots are gone); nothing else");
        assertTrue(daemon.stderr().contains("dropped 1 unusable files"), daemon.stderr());
    }

    @Test
    void aLowerCapacityOnRestartKeepsTheMostRecentlyLoadedBlocksWithinIt() throws Exception {
        start("64M");
        readEverything(); // a, then b, then notes.txt
        daemon.kill();

        restart("24M");
        assertTrue(storeMemory() <= 24 * MIB, "the store holds " + storeMemory() + " bytes, more than the capacity");
        long before = source.bytesRead();
        assertEquals(source.sha256("notes.txt"), Digests.sha256(mount.resolve("notes.txt")));
        assertEquals(source.sha256("models/b.safetensors"), Digests.sha256(mount.resolve("models/b.safetensors")));
        assertEquals(0, source.bytesRead() - before, "notes.txt and b, the last loaded, fit in 24 MiB");
        assertEquals(source.sha256("models/a.safetensors"), Digests.sha256(mount.resolve("models/a.safetensors")));
        // a's last block was kept too, the least recently loaded of those kept: the first evicted
        assertEquals(16 * MIB, source.bytesRead() - before, "a, loaded first, did not fit beside them");
        assertTrue(daemon.stderr().contains("adopted 20.1 MiB in 7 blocks of 3 files"), daemon.stderr());
        assertTrue(daemon.stderr().contains("dropped 3 blocks beyond the capacity"), daemon.stderr());
    }

    @Test
    void aSecondDaemonOnTheSameStoreDirectoryExitsWithCode2() throws Exception {
        start("64M");
        Path other = fixture.scratch.dir("other");
        try (DaemonProcess second = DaemonProcess.start(fixture.scratch, other, "mount", "--source",
                source.dir().toString(), "--mount", other.toString(), "--capacity", "64M", "--store-dir",
                store.toString())) {
            assertTrue(second.awaitExit(Duration.ofSeconds(30)));
            assertEquals(2, second.exitValue());
            assertEquals("cachefs: cache store directory " + store + " is in use by another cachefs daemon (pid "
                    + daemon.pid() + "): give each daemon a --store-dir of its own", second.stderr().strip());
            assertFalse(MountTable.isMountPoint(other));
        }
        assertEquals(source.sha256("notes.txt"), Digests.sha256(mount.resolve("notes.txt")), "the first one serves on");
    }

    // ---- Helpers ---------------------------------------------------------------------------

    private String[] args(String capacity) {
        return new String[] {"--capacity", capacity, "--store-dir", store.toString()};
    }

    private void start(String capacity) throws Exception {
        daemon = fixture.mount(args(capacity));
    }

    /** Starts a daemon on the mount point a killed one left stale. */
    private void restart(String capacity) throws Exception {
        daemon = fixture.start(source.dir(), args(capacity)).awaitListable(mount, Duration.ofSeconds(30));
    }

    /** Reads every file through the mount and checks it against the source, in a fixed order. */
    private void readEverything() throws Exception {
        for (String file : List.of("models/a.safetensors", "models/b.safetensors", "notes.txt")) {
            assertEquals(source.sha256(file), Digests.sha256(mount.resolve(file)), file);
        }
    }

    private List<Path> storeFiles(String suffix) throws IOException {
        try (Stream<Path> files = Files.walk(store)) {
            return files.filter(p -> p.toString().endsWith(suffix)).toList();
        }
    }

    private Path storeFile(String suffix) throws IOException {
        List<Path> files = storeFiles(suffix);
        assertEquals(1, files.size(), "store files ending " + suffix + ": " + files);
        return files.getFirst();
    }

    /** Memory the store's files hold, as du counts it. */
    private long storeMemory() throws IOException {
        long bytes = 0;
        for (Path file : storeFiles("")) {
            bytes += Files.isRegularFile(file) ? Statx.ofLink(file).blocks() * 512 : 0;
        }
        return bytes;
    }

    private static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
