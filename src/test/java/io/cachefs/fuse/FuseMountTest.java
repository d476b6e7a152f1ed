package io.cachefs.fuse;

import io.cachefs.linux.Libc;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Tag;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The FUSE layer mounted for real with an in-memory filesystem, checked with real tools and Java I/O. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class FuseMountTest {
    private MountedFilesystem mounted;

    @BeforeEach
    void setUp() throws IOException {
        mounted = new MountedFilesystem();
    }

    @AfterEach
    void tearDown() throws Exception {
        mounted.close();
    }

    private static String sha256(MemorySegment bytes) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        digest.update(bytes.asByteBuffer());
        return HexFormat.of().formatHex(digest.digest());
    }

    @Test
    void mirrorsTreeToLsStatFindCatAndReadlink() throws Exception {
        mounted.fs.mkdir("models");
        mounted.fs.mkdir("models/lora");
        Memfd small = mounted.file("models/readme.txt", 5000, 1, false, false);
        mounted.file("models/lora/style.safetensors", 3 << 20, 2, false, false);
        mounted.fs.symlink("latest", "models/readme.txt");
        mounted.mount();

        String listing = Shell.ok("ls", "-lR", mounted.dir.toString());
        assertTrue(listing.contains("readme.txt"), listing);
        assertTrue(listing.contains("style.safetensors"), listing);
        assertTrue(listing.contains("latest -> models/readme.txt"), listing);
        assertEquals("5000 regular file 644", Shell.ok("stat", "-c", "%s %F %a",
                mounted.path("models/readme.txt").toString()).trim());
        assertEquals("directory", Shell.ok("stat", "-c", "%F", mounted.path("models/lora").toString()).trim());
        assertEquals(List.of("", "/latest", "/models", "/models/lora", "/models/lora/style.safetensors",
                        "/models/readme.txt"),
                Shell.ok("find", mounted.dir.toString()).lines().map(l -> l.substring(mounted.dir.toString().length()))
                        .sorted().toList());
        assertEquals("models/readme.txt", Shell.ok("readlink", mounted.path("latest").toString()).trim());
        assertEquals(sha256(small.bytes), Shell.ok("sha256sum", mounted.path("models/readme.txt").toString())
                .split(" ")[0]);
        assertEquals(sha256(small.bytes), Shell.ok("bash", "-c", "cat " + mounted.path("latest") + " | sha256sum")
                .split(" ")[0]);
        assertArrayEquals(small.bytes.toArray(JAVA_BYTE), Files.readAllBytes(mounted.path("models/readme.txt")));
        assertTrue(Files.isSymbolicLink(mounted.path("latest")));
    }

    @Test
    void ddReadsWholeFileInLargeRequests() throws Exception {
        Memfd data = mounted.file("big.bin", 64 << 20, 3, false, false);
        mounted.mount();
        String sum = Shell.sh("dd if=" + mounted.path("big.bin") + " bs=1M status=none | sha256sum").split(" ")[0];
        assertEquals(sha256(data.bytes), sum);
        assertTrue(mounted.fs.reads.get() <= 64 * 2, "1 MiB requests expected, saw " + mounted.fs.reads.get()
                + " reads for 64 MiB");
    }

    @Test
    void listsDirectoryWithThousandsOfEntriesAcrossReaddirContinuations() throws Exception {
        mounted.fs.mkdir("many");
        Memfd one = mounted.file("one", 10, 4, false, false);
        for (int i = 0; i < 5000; i++) {
            mounted.fs.file("many/entry-with-a-longish-name-" + i, one, false, false);
        }
        mounted.mount();
        assertEquals(5000, Shell.ok("ls", mounted.path("many").toString()).lines().count());
        assertEquals(5000, Shell.ok("ls", "-l", mounted.path("many").toString()).lines()
                .filter(l -> l.contains("entry-with")).count());
        try (var stream = Files.list(mounted.path("many"))) {
            assertEquals(5000, stream.count());
        }
        assertEquals(5001, Shell.ok("find", mounted.path("many").toString()).lines().count());
    }

    @Test
    void readsPastFourGibibytesInSparseFile() throws Exception {
        long size = 5L << 30;
        long far = (4L << 30) + (512L << 20);
        Memfd data = mounted.sparseFile("sparse.bin", size, 5, 0, far);
        mounted.mount();
        assertEquals(Long.toString(size), Shell.ok("stat", "-c", "%s", mounted.path("sparse.bin").toString()).trim());
        String tail = Shell.sh("dd if=" + mounted.path("sparse.bin") + " bs=1M skip=" + (far >> 20)
                + " count=1 status=none | sha256sum").split(" ")[0];
        assertEquals(sha256(data.bytes.asSlice(far, 1 << 20)), tail);
        try (FileChannel channel = FileChannel.open(mounted.path("sparse.bin"))) {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            channel.read(buffer, far + 12345);
            assertArrayEquals(data.bytes.asSlice(far + 12345, 4096).toArray(JAVA_BYTE), buffer.array());
            buffer.clear();
            assertEquals(4096, channel.read(buffer, size - 4096));
            assertArrayEquals(new byte[4096], buffer.array());
            assertEquals(-1, channel.read(buffer.clear(), size));
        }
    }

    @Test
    void concurrentReadersGetTheirOwnBytes() throws Exception {
        Memfd data = mounted.file("shared.bin", 32 << 20, 6, false, false);
        mounted.mount();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> readers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                readers.add(pool.submit(() -> {
                    try (FileChannel channel = FileChannel.open(mounted.path("shared.bin"))) {
                        ByteBuffer buffer = ByteBuffer.allocate(300_000);
                        for (int i = 0; i < 100; i++) {
                            long offset = ThreadLocalRandom.current().nextLong(data.size - buffer.capacity());
                            buffer.clear();
                            while (buffer.hasRemaining()) {
                                channel.read(buffer, offset + buffer.position());
                            }
                            assertArrayEquals(data.bytes.asSlice(offset, buffer.capacity()).toArray(JAVA_BYTE),
                                    buffer.array(), "at offset " + offset);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> reader : readers) {
                reader.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void mmapSharedAndPrivateSeeTheFileBytes() throws Throwable {
        Memfd data = mounted.file("mapped.bin", 8 << 20, 7, false, false);
        mounted.mount();
        try (FileChannel channel = FileChannel.open(mounted.path("mapped.bin"));
             Arena arena = Arena.ofConfined()) {
            MemorySegment shared = channel.map(FileChannel.MapMode.READ_ONLY, 0, data.size, arena);
            assertEquals(sha256(data.bytes), sha256(shared));
        }
        assertEquals(sha256(data.bytes), MappedRead.privateMappingSha256(mounted.path("mapped.bin"), data.size));
    }

    @Test
    void everyWriteIsReadOnlyFileSystem() throws Exception {
        mounted.fs.mkdir("d");
        mounted.file("f", 100, 8, false, false);
        mounted.mount();
        Path f = mounted.path("f");
        assertReadOnly(() -> Files.write(f, new byte[] {1}, StandardOpenOption.APPEND));
        assertReadOnly(() -> Files.createFile(mounted.path("new")));
        assertReadOnly(() -> Files.createDirectory(mounted.path("newdir")));
        assertReadOnly(() -> Files.move(f, mounted.path("g")));
        assertReadOnly(() -> Files.delete(f));
        assertReadOnly(() -> Files.delete(mounted.path("d")));
        assertReadOnly(() -> Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxrwxrwx")));
        assertReadOnly(() -> Files.createSymbolicLink(mounted.path("l"), f));
        assertReadOnly(() -> FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING));
        assertReadOnly(() -> Files.getFileAttributeView(f, UserDefinedFileAttributeView.class)
                .write("user.x", ByteBuffer.wrap(new byte[] {1})));
        Shell.Result truncate = Shell.run("truncate", "-s", "0", f.toString());
        assertTrue(truncate.err().contains("Read-only file system"), truncate.err());
        Shell.Result touch = Shell.run("touch", f.toString());
        assertTrue(touch.err().contains("Read-only file system"), touch.err());
        assertEquals(100, Files.size(f));
    }

    private interface Io {
        void run() throws IOException;
    }

    private static void assertReadOnly(Io write) {
        FileSystemException e = assertThrows(FileSystemException.class, write::run);
        assertTrue(e.getReason().endsWith("Read-only file system"), e.toString());
    }

    @Test
    void passthroughServesFileWithoutAnyReadRequest() throws Exception {
        Memfd data = mounted.file("model.safetensors", 48 << 20, 9, true, false);
        mounted.mount();
        assertTrue(mounted.mount.connection().passthrough(), "kernel 6.9+ offers passthrough");
        String sum = Shell.sh("dd if=" + mounted.path("model.safetensors") + " bs=1M status=none | sha256sum");
        assertEquals(sha256(data.bytes), sum.split(" ")[0]);
        try (FileChannel channel = FileChannel.open(mounted.path("model.safetensors")); Arena arena = Arena.ofConfined()) {
            assertEquals(sha256(data.bytes), sha256(channel.map(FileChannel.MapMode.READ_ONLY, 0, data.size, arena)));
        }
        assertEquals(0, mounted.fs.reads.get(), "passthrough reads must not reach the filesystem");
    }

    @Test
    void servedAndPassthroughOpensOfOneFileNeverFail() throws Exception {
        Memfd data = mounted.file("m.bin", 4 << 20, 16, false, false);
        mounted.mount();
        Path file = mounted.path("m.bin");
        byte[] expected = data.bytes.toArray(JAVA_BYTE);
        try (FileChannel served = FileChannel.open(file)) {
            mounted.fs.file("m.bin", data, true, false); // the filesystem now asks for passthrough
            try (FileChannel second = FileChannel.open(file)) {
                assertArrayEquals(expected, readAll(second), "served by READ while a served open exists");
            }
            assertArrayEquals(expected, readAll(served));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (mounted.fs.releases.get() < mounted.fs.opens.get() && System.nanoTime() < deadline) {
            Thread.sleep(5); // the kernel sends RELEASE after close(2) returns
        }
        int readsBefore = mounted.fs.reads.get();
        try (FileChannel passthrough = FileChannel.open(file)) {
            assertArrayEquals(expected, readAll(passthrough));
            assertEquals(readsBefore, mounted.fs.reads.get(), "no served open left: passthrough");
            mounted.fs.file("m.bin", data, false, true); // and back to READ, with page cache
            try (FileChannel second = FileChannel.open(file)) {
                assertArrayEquals(expected, readAll(second), "passthrough beside passthrough");
            }
            assertEquals(readsBefore, mounted.fs.reads.get());
        }
    }

    private static byte[] readAll(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) channel.size());
        while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) > 0) {
            // keep reading
        }
        return buffer.array();
    }

    @Test
    void passthroughNotOfferedFallsBackToReadRequests() throws Exception {
        Memfd data = mounted.file("model.bin", 8 << 20, 10, true, false);
        mounted.mount(MountOptions.defaults("memfs").withWorkers(2).withPassthrough(false));
        assertFalse(mounted.mount.connection().passthrough());
        assertEquals(sha256(data.bytes), Shell.sh("cat " + mounted.path("model.bin") + " | sha256sum").split(" ")[0]);
        assertTrue(mounted.fs.reads.get() > 0);
    }

    @Test
    void backingFileRefusedByKernelFallsBackToReadRequests() throws Exception {
        Memfd data = mounted.file("model.bin", 8 << 20, 11, true, false);
        int directoryFd;
        try (Arena arena = Arena.ofConfined()) {
            directoryFd = Libc.open(Libc.newCapture(arena), mounted.dir.getParent().toString(), Libc.O_RDONLY);
        }
        assertTrue(directoryFd >= 0);
        mounted.fs.backingFdOverride = directoryFd; // the kernel only passes through to regular files
        try {
            mounted.mount();
            assertTrue(mounted.mount.connection().passthrough());
            assertEquals(sha256(data.bytes), Shell.sh("cat " + mounted.path("model.bin") + " | sha256sum").split(" ")[0]);
            assertTrue(mounted.fs.reads.get() > 0);
        } finally {
            try (Arena arena = Arena.ofConfined()) {
                Libc.close(Libc.newCapture(arena), directoryFd);
            }
        }
    }

    @Test
    void invalidationMakesChangedBytesAndDeletedNamesVisibleAtOnce() throws Exception {
        mounted.fs.timeout = Duration.ofHours(1); // the kernel would trust its caches for an hour
        Memfd data = mounted.file("weights.bin", 1 << 20, 12, false, true);
        mounted.mount();
        Path file = mounted.path("weights.bin");
        byte[] before = Files.readAllBytes(file);
        data.fillPattern(0, data.size, 13); // same size and mtime, new bytes
        assertArrayEquals(before, Files.readAllBytes(file), "kept page cache serves the old bytes");
        mounted.mount.invalidate("weights.bin").get();
        assertArrayEquals(data.bytes.toArray(JAVA_BYTE), Files.readAllBytes(file));

        mounted.fs.remove("weights.bin");
        assertTrue(Files.exists(file), "the kernel still trusts its cached entry");
        mounted.mount.invalidateEntry("", "weights.bin").get();
        assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void forgetsReachTheFilesystemWhenKernelDropsNodes() throws Exception {
        mounted.fs.mkdir("d");
        mounted.file("d/x", 10, 14, false, false);
        mounted.mount();
        assertTrue(Files.exists(mounted.path("d/x")));
        assertTrue(mounted.mount.knownNodes() >= 3);
        Shell.sh("sync; echo 2 > /proc/sys/vm/drop_caches"); // drops dentries and inodes: the kernel forgets
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (mounted.fs.forgets.get("d/x") == null && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, mounted.fs.forgets.get("d/x").get());
        assertTrue(Files.exists(mounted.path("d/x")), "a forgotten node can be looked up again");
    }

    @Test
    void externalUnmountEndsTheMount() throws Exception {
        mounted.mount();
        assertTrue(mounted.mount.isMounted());
        Shell.ok("umount", mounted.dir.toString());
        mounted.mount.awaitUnmount();
        assertFalse(mounted.mount.isMounted());
        assertFalse(Shell.isMountPoint(mounted.dir));
    }

    @Test
    void closeUnmounts() throws Exception {
        mounted.mount();
        assertTrue(Shell.isMountPoint(mounted.dir));
        mounted.mount.close();
        assertFalse(Shell.isMountPoint(mounted.dir));
        assertFalse(mounted.mount.isMounted());
    }

    @Test
    void refusesMissingAndAlreadyMountedTargets() throws Exception {
        FuseMountException missing = assertThrows(FuseMountException.class,
                () -> FuseMount.mount(mounted.dir.resolve("nope"), new MemoryFilesystem(), MountOptions.defaults("x")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        mounted.mount();
        FuseMountException busy = assertThrows(FuseMountException.class,
                () -> FuseMount.mount(mounted.dir, new MemoryFilesystem(), MountOptions.defaults("x")));
        assertTrue(busy.getMessage().contains("already mounted"), busy.getMessage());
    }

    @Test
    void statfsAndXattrQueriesAnswer() throws Exception {
        mounted.file("f", 10, 15, false, false);
        mounted.mount();
        assertEquals("4096", Shell.ok("stat", "-f", "-c", "%S", mounted.dir.toString()).trim());
        UserDefinedFileAttributeView view = Files.getFileAttributeView(mounted.path("f"), UserDefinedFileAttributeView.class);
        assertEquals(List.of(), view.list());
    }

    @Test
    void requestsHungInTheFilesystemLeaveTheMountAnswering() throws Exception {
        mounted.fs.directIo = true; // every read reaches the filesystem, none is served from pages
        mounted.file("hung.bin", 1 << 20, 16, false, false);
        Memfd other = mounted.file("other.bin", 1 << 20, 17, false, false);
        mounted.mount(MountOptions.defaults("memfs").withWorkers(2).withPassthrough(false));
        mounted.fs.hangs.put("hung.bin", new CountDownLatch(1));
        int stuck = 24; // far more than the idle workers
        try (ExecutorService readers = Executors.newFixedThreadPool(stuck)) {
            List<Future<byte[]>> hung = new ArrayList<>();
            for (int i = 0; i < stuck; i++) {
                hung.add(readers.submit(() -> Files.readAllBytes(mounted.path("hung.bin"))));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (mounted.mount.workerStats().running() < stuck + 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(mounted.mount.workerStats().running() > stuck, "a worker per hung read, and one spare: "
                    + mounted.mount.workerStats());

            // metadata and other files are served meanwhile
            assertEquals("1048576", Shell.ok("stat", "-c", "%s", mounted.path("other.bin").toString()).trim());
            assertTrue(Shell.ok("ls", mounted.dir.toString()).contains("other.bin"));
            assertArrayEquals(other.bytes.toArray(JAVA_BYTE), Files.readAllBytes(mounted.path("other.bin")));

            mounted.fs.hangs.remove("hung.bin").countDown();
            for (Future<byte[]> read : hung) {
                assertEquals(1 << 20, read.get().length);
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (mounted.mount.workerStats().running() > 2 && System.nanoTime() < deadline) {
            Files.size(mounted.path("other.bin")); // each request lets a spare worker go
            Thread.sleep(5);
        }
        assertEquals(2, mounted.mount.workerStats().running(), "the spare workers ended once idle");
        assertEquals(0, mounted.mount.workerStats().died());
    }
}
