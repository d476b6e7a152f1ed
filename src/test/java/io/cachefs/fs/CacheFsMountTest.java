package io.cachefs.fs;

import io.cachefs.fuse.TestMounts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.lang.foreign.ValueLayout;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CacheFS over a real source directory, mounted for real, read with real tools and Java I/O. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class CacheFsMountTest {
    private static final int MIB = 1 << 20;
    private MountedCache cache;

    @BeforeEach
    void setUp() throws IOException {
        cache = new MountedCache();
    }

    @AfterEach
    void tearDown() throws Exception {
        cache.close();
    }

    static void writeRandom(Path file, long size, long seed) throws IOException {
        Files.createDirectories(file.getParent());
        SplittableRandom random = new SplittableRandom(seed);
        byte[] chunk = new byte[MIB];
        try (var out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(left, chunk.length));
            }
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        ByteBuffer buffer = ByteBuffer.allocateDirect(MIB);
        try (FileChannel channel = FileChannel.open(file)) {
            while (channel.read(buffer.clear()) >= 0) {
                digest.update(buffer.flip());
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String tree(Path root) throws Exception {
        return TestMounts.sh("cd " + root + " && find . -printf '%p %s %T@ %m %y %l\\n' | sort");
    }

    @Test
    void mirrorsTreeByteForByteIncludingFilePast4GiB() throws Exception {
        writeRandom(cache.src("models/sd/v1-5.safetensors"), 24 * MIB + 12345, 1);
        writeRandom(cache.src("models/lora/style.safetensors"), 3 * MIB, 2);
        writeRandom(cache.src("README"), 100, 3);
        Files.createDirectories(cache.src("empty"));
        Files.writeString(cache.src("models/sd/config.json"), "{\"x\": 1}");
        Files.createSymbolicLink(cache.src("latest"), Path.of("models/sd/v1-5.safetensors"));
        Files.setPosixFilePermissions(cache.src("README"), PosixFilePermissions.fromString("r--r-----"));
        try (RandomAccessFile sparse = new RandomAccessFile(cache.src("models/huge.bin").toFile(), "rw")) {
            sparse.setLength((4L << 30) + (300L << 20)); // 4.3 GiB, mostly holes
            sparse.seek(4L << 30);
            sparse.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            sparse.seek(7);
            sparse.write(42);
        }
        cache.mount(512L * MIB, 4 * MIB, MountedCache.options(true, 8));

        assertEquals(tree(cache.source), tree(cache.mount));
        for (String file : List.of("models/sd/v1-5.safetensors", "models/lora/style.safetensors", "README",
                "models/sd/config.json", "latest", "models/huge.bin")) {
            assertEquals(sha256(cache.src(file)), sha256(cache.mnt(file)), file);
        }
        assertEquals(TestMounts.sh("cd " + cache.source + " && ls -lR --time-style=full-iso"),
                TestMounts.sh("cd " + cache.mount + " && ls -lR --time-style=full-iso"));
        String far = TestMounts.sh("dd if=" + cache.mnt("models/huge.bin") + " bs=1 skip=" + (4L << 30)
                + " count=8 status=none | od -An -tu1").trim();
        assertEquals("1  2  3  4  5  6  7  8", far.replaceAll("\\s+", "  "));
        assertTrue(cache.cache.stats().usedBytes() <= 512L * MIB);
    }

    @Test
    void mmapSharedAndPrivateReadTheSourceBytes() throws Throwable {
        writeRandom(cache.src("model.bin"), 9 * MIB + 77, 4);
        cache.mount(64L * MIB, MIB, MountedCache.options(true, 4));
        byte[] expected = Files.readAllBytes(cache.src("model.bin"));
        try (FileChannel channel = FileChannel.open(cache.mnt("model.bin")); Arena arena = Arena.ofConfined()) {
            MemorySegment shared = channel.map(FileChannel.MapMode.READ_ONLY, 0, expected.length, arena);
            assertArrayEquals(expected, shared.toArray(ValueLayout.JAVA_BYTE));
        }
        assertEquals(sha256(cache.src("model.bin")),
                TestMounts.sh("python3 -c \"import mmap,hashlib,sys; f=open(sys.argv[1],'rb'); "
                        + "m=mmap.mmap(f.fileno(),0,flags=mmap.MAP_PRIVATE,prot=mmap.PROT_READ|mmap.PROT_WRITE); "
                        + "m[0:1]=m[0:1]; print(hashlib.sha256(m).hexdigest())\" " + cache.mnt("model.bin")).trim());
    }

    @Test
    void withoutPageCacheReadsBypassItAndMappingsStillWork() throws Throwable {
        writeRandom(cache.src("model.bin"), 9 * MIB + 77, 16);
        cache.mount(64L * MIB, MIB, new CacheFsOptions(false, false, 4, Long.MAX_VALUE, CacheFsOptions.DEFAULT_METADATA_TIMEOUT));
        String expected = sha256(cache.src("model.bin"));
        assertEquals(expected, sha256(cache.mnt("model.bin")));
        assertEquals("0", TestMounts.sh("fincore --bytes --noheadings --output RES " + cache.mnt("model.bin")).trim(),
                "direct I/O: nothing of the file in the page cache after a read");
        byte[] bytes = Files.readAllBytes(cache.src("model.bin"));
        try (FileChannel channel = FileChannel.open(cache.mnt("model.bin")); Arena arena = Arena.ofConfined()) {
            MemorySegment shared = channel.map(FileChannel.MapMode.READ_ONLY, 0, bytes.length, arena);
            assertArrayEquals(bytes, shared.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void everyWriteIsRefusedAndTheSourceStaysUntouched() throws Exception {
        writeRandom(cache.src("d/f.bin"), 1000, 5);
        cache.mount(16L * MIB, MIB, MountedCache.options(true, 4));
        String before = tree(cache.source);
        Path f = cache.mnt("d/f.bin");
        List<String> failures = new ArrayList<>();
        List<IoAction> writes = List.of(
                () -> Files.write(f, new byte[] {1}, StandardOpenOption.APPEND),
                () -> Files.createFile(cache.mnt("new")),
                () -> Files.createDirectory(cache.mnt("newdir")),
                () -> Files.move(f, cache.mnt("moved")),
                () -> Files.delete(f),
                () -> Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxrwxrwx")),
                () -> FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING).close(),
                () -> Files.setLastModifiedTime(f, FileTime.from(Instant.now())),
                () -> Files.getFileAttributeView(f, UserDefinedFileAttributeView.class)
                        .write("user.x", ByteBuffer.wrap(new byte[] {1})));
        for (IoAction write : writes) {
            FileSystemException e = assertThrows(FileSystemException.class, write::run);
            if (!e.getReason().endsWith("Read-only file system")) {
                failures.add(e.toString());
            }
        }
        assertEquals(List.of(), failures);
        assertEquals(before, tree(cache.source));
    }

    private interface IoAction {
        void run() throws IOException;
    }

    @Test
    void newSourceFileAppearsWithinTwoSeconds() throws Exception {
        cache.mount(16L * MIB, MIB, MountedCache.options(true, 4));
        assertEquals(List.of(), list(cache.mount));
        writeRandom(cache.src("later/new.safetensors"), 5000, 6);
        long start = System.nanoTime();
        while (!list(cache.mount).contains("later") || !Files.exists(cache.mnt("later/new.safetensors"))) {
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos(), "new file not visible within 2 s");
            Thread.sleep(20);
        }
        assertEquals(sha256(cache.src("later/new.safetensors")), sha256(cache.mnt("later/new.safetensors")));
    }

    private static List<String> list(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void changedSourceFileIsServedAsTheNewVersionAndOldBlocksAreDropped() throws Exception {
        writeRandom(cache.src("model.bin"), 6 * MIB, 7);
        cache.mount(64L * MIB, MIB, MountedCache.options(true, 4));
        assertEquals(sha256(cache.src("model.bin")), sha256(cache.mnt("model.bin")));
        assertEquals(sha256(cache.src("model.bin")), sha256(cache.mnt("model.bin"))); // a memory hit now

        Path replacement = cache.source.resolve("model.bin.tmp");
        writeRandom(replacement, 7 * MIB, 8);
        Files.move(replacement, cache.src("model.bin"), StandardCopyOption.ATOMIC_MOVE);
        String expected = sha256(cache.src("model.bin"));
        long start = System.nanoTime();
        while (!expected.equals(sha256(cache.mnt("model.bin")))) {
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos(), "new version not served within 2 s");
            Thread.sleep(50);
        }
        assertEquals(7L * MIB, Files.size(cache.mnt("model.bin")));
        assertEquals(1, cache.cache.stats().filesCached(), "the old version's blocks are dropped");
    }

    @Test
    void sourceChangedUnderAnOpenFileFailsReadsWithEio() throws Exception {
        writeRandom(cache.src("model.bin"), 8 * MIB, 9);
        cache.mount(64L * MIB, MIB, MountedCache.options(true, 0));
        try (FileChannel open = FileChannel.open(cache.mnt("model.bin"))) {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            open.read(buffer, 0);
            Files.setLastModifiedTime(cache.src("model.bin"), FileTime.from(Instant.now().plusSeconds(60)));
            IOException e = assertThrows(IOException.class, () -> open.read(buffer.clear(), 5L * MIB));
            assertTrue(e.getMessage().contains("Input/output error"), e.toString());
        }
        assertTrue(cache.fs.counts().get(ReadCounter.FAILED_READS) > 0);
    }

    @Test
    void deletedSourceFileDisappearsAndItsBlocksAreDropped() throws Exception {
        writeRandom(cache.src("gone.bin"), 3 * MIB, 10);
        cache.mount(64L * MIB, MIB, MountedCache.options(true, 4));
        sha256(cache.mnt("gone.bin"));
        assertEquals(3, cache.cache.stats().blocks());
        Files.delete(cache.src("gone.bin"));
        long start = System.nanoTime();
        while (Files.exists(cache.mnt("gone.bin"))) {
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos(), "deleted file still visible after 2 s");
            Thread.sleep(50);
        }
        assertThrows(NoSuchFileException.class, () -> Files.size(cache.mnt("gone.bin")));
        assertEquals(0, cache.cache.stats().blocks());
    }

    @Test
    void capacityHoldsWhileReadingThreeTimesItAndEvictsLeastRecentlyUsed() throws Exception {
        long capacity = 12L * MIB;
        for (String name : List.of("a", "b", "c", "d", "e", "f", "g", "h", "i")) {
            writeRandom(cache.src(name), 4 * MIB, name.charAt(0));
        }
        // no kernel page cache: every read that misses memory must reach the cache, to be counted
        cache.mount(capacity, MIB, new CacheFsOptions(true, false, 2, Long.MAX_VALUE, CacheFsOptions.DEFAULT_METADATA_TIMEOUT));
        AtomicLong maxUsed = new AtomicLong();
        AtomicBoolean reading = new AtomicBoolean(true);
        Thread sampler = Thread.ofPlatform().start(() -> {
            while (reading.get()) {
                maxUsed.accumulateAndGet(cache.cache.stats().usedBytes(), Math::max);
                Thread.onSpinWait();
            }
        });
        try {
            for (String name : List.of("a", "b", "c", "d", "e", "f", "g", "h", "i")) { // 36 MiB: 3x capacity
                assertEquals(sha256(cache.src(name)), sha256(cache.mnt(name)));
            }
        } finally {
            reading.set(false);
            sampler.join();
        }
        assertTrue(maxUsed.get() <= capacity, "used " + maxUsed.get() + " > capacity " + capacity);
        assertTrue(cache.cache.stats().evictions() > 0);

        // g, h, i are cached (12 MiB). Touch g, then read x: the least recently used, h, goes.
        writeRandom(cache.src("x"), 4 * MIB, 'x');
        sha256(cache.mnt("g"));
        sha256(cache.mnt("x"));
        long before = cache.sourceBytes.get();
        sha256(cache.mnt("g"));
        sha256(cache.mnt("i"));
        assertEquals(before, cache.sourceBytes.get(), "g (touched) and i (newer) stayed in memory");
        sha256(cache.mnt("h"));
        assertEquals(before + 4 * MIB, cache.sourceBytes.get(), "h, least recently used, was evicted");
    }

    @Test
    void fullyCachedFileOpensInPassthroughWithNoReadReachingTheDaemon() throws Exception {
        writeRandom(cache.src("model.safetensors"), 20 * MIB + 5, 11);
        cache.mount(64L * MIB, 4 * MIB, MountedCache.options(true, 8));
        String expected = sha256(cache.src("model.safetensors"));
        assertEquals(expected, sha256(cache.mnt("model.safetensors")));
        long served = cache.fs.counts().get(ReadCounter.MEMORY_BYTES) + cache.fs.counts().get(ReadCounter.SOURCE_BYTES);
        long hits = cache.cache.stats().hits() + cache.cache.stats().misses();
        TestMounts.sh("sync; echo 3 > /proc/sys/vm/drop_caches");
        assertEquals(expected, sha256(cache.mnt("model.safetensors")));
        assertEquals(expected, TestMounts.sh("dd if=" + cache.mnt("model.safetensors") + " bs=1M status=none | sha256sum")
                .split(" ")[0]);
        assertEquals(2, cache.fs.counts().get(ReadCounter.PASSTHROUGH_OPENS));
        assertEquals(served, cache.fs.counts().get(ReadCounter.MEMORY_BYTES) + cache.fs.counts().get(ReadCounter.SOURCE_BYTES),
                "no READ request reached the daemon");
        assertEquals(hits, cache.cache.stats().hits() + cache.cache.stats().misses());
    }

    @Test
    void blocksOfAFileHeldOpenAreNeverEvicted() throws Exception {
        writeRandom(cache.src("held.bin"), 8 * MIB, 12);
        for (int i = 0; i < 6; i++) {
            writeRandom(cache.src("other-" + i), 4 * MIB, 20 + i);
        }
        cache.mount(16L * MIB, MIB, MountedCache.options(true, 2));
        String expected = sha256(cache.src("held.bin"));
        sha256(cache.mnt("held.bin")); // now fully cached
        try (FileChannel held = FileChannel.open(cache.mnt("held.bin"))) { // passthrough: pinned
            for (int i = 0; i < 6; i++) { // 24 MiB through the 8 MiB left
                assertEquals(sha256(cache.src("other-" + i)), sha256(cache.mnt("other-" + i)));
            }
            assertTrue(cache.cache.stats().evictions() > 0);
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            ByteBuffer buffer = ByteBuffer.allocate(MIB);
            for (long at = 0; held.read(buffer.clear(), at) > 0; at += buffer.position()) {
                digest.update(buffer.flip());
            }
            assertEquals(expected, HexFormat.of().formatHex(digest.digest()));
        }
        assertEquals(8, cache.loadsPerBlock.keySet().stream().filter(k -> k.startsWith("held.bin@")).count());
        assertTrue(cache.loadsPerBlock.entrySet().stream().filter(e -> e.getKey().startsWith("held.bin@"))
                .allMatch(e -> e.getValue().get() == 1), "held.bin was never loaded twice: " + cache.loadsPerBlock);
    }

    @Test
    void concurrentReadersOfAColdFileCauseOneSourceReadPerBlock() throws Exception {
        writeRandom(cache.src("cold.bin"), 16 * MIB, 13);
        cache.mount(64L * MIB, MIB, MountedCache.options(false, 4));
        cache.loadDelay = Duration.ofMillis(20); // a slow source, so readers really overlap
        String expected = sha256(cache.src("cold.bin"));
        int readers = 6;
        CyclicBarrier start = new CyclicBarrier(readers);
        ExecutorService pool = Executors.newFixedThreadPool(readers);
        try {
            List<Future<String>> sums = new ArrayList<>();
            for (int i = 0; i < readers; i++) {
                sums.add(pool.submit(() -> {
                    start.await();
                    return sha256(cache.mnt("cold.bin"));
                }));
            }
            for (Future<String> sum : sums) {
                assertEquals(expected, sum.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(16, cache.loadsPerBlock.size());
        assertTrue(cache.loadsPerBlock.values().stream().allMatch(n -> n.get() == 1),
                "each block read from the source once: " + cache.loadsPerBlock);
        assertEquals(16L * MIB, cache.sourceBytes.get());
    }

    @Test
    void sequentialReaderGetsTheNextBlocksLoadedAhead() throws Exception {
        writeRandom(cache.src("seq.bin"), 32 * MIB, 14);
        cache.mount(64L * MIB, MIB, MountedCache.options(false, 6));
        try (FileChannel channel = FileChannel.open(cache.mnt("seq.bin"))) {
            channel.read(ByteBuffer.allocate(4096), 0);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (cache.loadsPerBlock.size() < 7 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        for (int block = 1; block <= 6; block++) {
            assertTrue(cache.loadsPerBlock.containsKey("seq.bin@" + (long) block * MIB),
                    "block " + block + " loaded ahead: " + cache.loadsPerBlock.keySet());
        }
    }

    @Test
    void prefetchOnOpenLoadsTheWholeFileSoTheNextOpenIsPassthrough() throws Exception {
        writeRandom(cache.src("model.bin"), 10 * MIB, 15);
        cache.mount(64L * MIB, MIB, new CacheFsOptions(true, true, 0, 0, CacheFsOptions.DEFAULT_METADATA_TIMEOUT));
        FileChannel.open(cache.mnt("model.bin")).close(); // reads nothing
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (cache.cache.stats().fullyCachedFiles() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(10L * MIB, cache.sourceBytes.get());
        assertEquals(sha256(cache.src("model.bin")), sha256(cache.mnt("model.bin")));
        assertEquals(1, cache.fs.counts().get(ReadCounter.PASSTHROUGH_OPENS));
    }

    @Test
    void statfsReportsTheCacheCapacity() throws Exception {
        cache.mount(64L * MIB, MIB, MountedCache.options(true, 4));
        assertEquals(Long.toString(64L * MIB / 4096), TestMounts.sh("stat -f -c %b " + cache.mount).trim());
        assertFalse(TestMounts.sh("df " + cache.mount).isEmpty());
    }
}
