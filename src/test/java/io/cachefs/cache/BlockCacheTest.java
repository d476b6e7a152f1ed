package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.source.FileVersion;
import io.cachefs.source.StaleVersionException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import java.io.InterruptedIOException;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;

class BlockCacheTest {

    /** Small blocks keep the tests fast and light; the cache does not care about the size. */
    private static final int BLOCK = 64 * 1024;

    private final CountingLoader loader = new CountingLoader();
    private final List<BlockCache> caches = new ArrayList<>();

    @AfterEach
    void checkInvariantsAndCloseEverything() throws Exception {
        loader.releaseLoads();
        try {
            for (BlockCache cache : caches) {
                cache.verifyInvariants();
            }
        } finally {
            caches.forEach(BlockCache::close);
        }
        assertEquals(List.of(), openCacheFiles(), "memory files left open");
        assertNoLoaderThreads();
    }

    // ---- Content --------------------------------------------------------------------------

    @Test
    void returnsBytesLoadedFromLoaderIncludingTheShortLastBlock() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("models/a.safetensors", 2L * BLOCK + 1234);

        for (long index = 0; index < 3; index++) {
            try (BlockLease lease = cache.acquire(file, index)) {
                assertEquals(index < 2 ? BLOCK : 1234, lease.bytes().byteSize());
                assertTrue(lease.bytes().isReadOnly());
                assertEquals(-1, Content.mismatch(file, index * BLOCK, lease.bytes()));
            }
        }
        CacheStats stats = cache.stats();
        assertEquals(2L * BLOCK + 4096, stats.usedBytes(), "a short block counts its pages");
        assertEquals(file.size(), stats.loadedBytes());
        assertEquals(3, stats.blocks());
        assertEquals(3, stats.misses());
    }

    @Test
    void hitsDoNotCallTheLoaderAgain() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 3L * BLOCK);

        read(cache, file, 1);
        read(cache, file, 1);
        read(cache, file, 1);

        assertEquals(1, loader.calls(file, BLOCK));
        assertEquals(2, cache.stats().hits());
        assertEquals(1, cache.stats().misses());
    }

    @Test
    void rejectsBlockIndexesOutsideTheFile() {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 2L * BLOCK);

        assertThrows(IndexOutOfBoundsException.class, () -> cache.acquire(file, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> cache.acquire(file, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> cache.acquire(file("empty", 0), 0));
    }

    // ---- Eviction and capacity -------------------------------------------------------------

    @Test
    void acquireIfPresentNeverLoads() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 3L * BLOCK);

        assertNull(cache.acquireIfPresent(file, 1));
        read(cache, file, 1);
        try (BlockLease lease = cache.acquireIfPresent(file, 1)) {
            check(cache, file, 1, lease);
        }
        assertNull(cache.acquireIfPresent(file, 2));
        assertEquals(1, loader.totalCalls());
    }

    @Test
    void evictsLeastRecentlyUsedBlockFirst() throws IOException {
        BlockCache cache = cache(3);
        FileVersion file = file("a", 4L * BLOCK);
        read(cache, file, 0);
        read(cache, file, 1);
        read(cache, file, 2);
        read(cache, file, 0); // now 1 is the least recently used

        read(cache, file, 3);

        assertEquals(1, cache.stats().evictions());
        read(cache, file, 0);
        read(cache, file, 2);
        read(cache, file, 3);
        assertEquals(1, loader.calls(file, 0));
        assertEquals(1, loader.calls(file, 2L * BLOCK));
        assertEquals(1, loader.calls(file, 3L * BLOCK));
        read(cache, file, 1);
        assertEquals(2, loader.calls(file, BLOCK), "the evicted block is loaded again");
    }

    @Test
    void evictionReturnsMemory() throws IOException {
        int block = 1 << 20;
        BlockCache cache = cache(new CacheSettings(2L * block, block, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
        FileVersion first = file("first", 2L * block);
        FileVersion second = file("second", block);
        read(cache, first, 0);
        read(cache, first, 1);
        assertEquals(2L * block, cache.allocatedBytes(first));

        read(cache, second, 0); // evicts block 0 of first

        assertEquals(block, cache.allocatedBytes(first), "the evicted block's pages were freed");
        assertEquals(block, cache.allocatedBytes(second));
    }

    @Test
    void neverHoldsMoreThanCapacityUnderConcurrency() throws Exception {
        // room for the 8 leases the readers may hold at once plus the 2 prefetch loads in flight
        int capacityBlocks = 10;
        BlockCache cache = cache(new CacheSettings(capacityBlocks * (long) BLOCK, BLOCK, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
        // three times the capacity, with short last blocks of odd lengths
        List<FileVersion> files = List.of(
                file("m/one", 8L * BLOCK + 100),
                file("m/two", 8L * BLOCK - 4096 - 7),
                file("m/three", 7L * BLOCK + 3000));
        AtomicLong maxUsed = new AtomicLong();
        List<Future<?>> readers = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(4)) {
            for (int t = 0; t < 4; t++) {
                Random random = new Random(42 + t);
                readers.add(threads.submit(() -> {
                    for (int n = 0; n < 300; n++) {
                        FileVersion file = files.get(random.nextInt(files.size()));
                        long count = cache.layout().blockCount(file.size());
                        long index = random.nextLong(count);
                        switch (random.nextInt(10)) {
                            case 0 -> cache.prefetch(file, index, 3);
                            case 1 -> { // two leases at once
                                try (BlockLease a = cache.acquire(file, index);
                                        BlockLease b = cache.acquire(file, (index + 1) % count)) {
                                    check(cache, file, index, a);
                                    check(cache, file, (index + 1) % count, b);
                                }
                            }
                            default -> {
                                try (BlockLease lease = cache.acquire(file, index)) {
                                    check(cache, file, index, lease);
                                }
                            }
                        }
                        maxUsed.accumulateAndGet(cache.stats().usedBytes(), Math::max);
                        cache.verifyInvariants();
                    }
                    return null;
                }));
            }
            for (Future<?> reader : readers) {
                reader.get();
            }
        }
        awaitQuiet(cache);
        assertTrue(maxUsed.get() <= capacityBlocks * (long) BLOCK, "used " + maxUsed);
        assertTrue(cache.stats().evictions() > 0, "the test must put the cache under pressure");
        assertEquals(0, cache.stats().uncachedBytes(), "pins and loads in flight never fill the capacity");
    }

    @RepeatedTest(10) // a race: once found only one run in 10 or so
    void dropsRacingWithReadersNeverMixVersionsOrLeakMemory() throws Exception {
        BlockCache cache = cache(new CacheSettings(6L * BLOCK, BLOCK, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
        List<FileVersion> versions = List.of(
                new FileVersion("model.bin", 4L * BLOCK + 9, 1),
                new FileVersion("model.bin", 4L * BLOCK + 9, 2),
                new FileVersion("model.bin", 3L * BLOCK, 3),
                file("other.bin", 5L * BLOCK));
        List<Future<?>> workers = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(3)) {
            for (int t = 0; t < 3; t++) {
                Random random = new Random(99 + t);
                workers.add(threads.submit(() -> {
                    for (int n = 0; n < 300; n++) {
                        FileVersion file = versions.get(random.nextInt(versions.size()));
                        long index = random.nextLong(cache.layout().blockCount(file.size()));
                        switch (random.nextInt(12)) {
                            case 0 -> cache.dropPath("model.bin",
                                    versions.get(random.nextInt(versions.size())));
                            case 1 -> cache.prefetch(file, index, 2);
                            case 2 -> cache.pinWhole(file).ifPresent(pinned -> {
                                try (pinned) {
                                    assertFileHolds(file, pinned.fd());
                                } catch (IOException e) {
                                    throw new AssertionError(e);
                                }
                            });
                            default -> readUnlessDropped(cache, file, index);
                        }
                        cache.verifyInvariants();
                    }
                    return null;
                }));
            }
            for (Future<?> worker : workers) {
                worker.get();
            }
        }
        awaitQuiet(cache);
        cache.dropPath("model.bin", null);
        cache.dropPath("other.bin", null);
        assertEquals(0, cache.stats().usedBytes());
        assertEquals(List.of(), openCacheFiles(), "every version's memory file closed");
    }

    @Test
    void pinnedBlockIsNeverEvicted() throws IOException {
        BlockCache cache = cache(4);
        FileVersion pinned = file("pinned", 2L * BLOCK);
        FileVersion other = file("other", 12L * BLOCK);

        try (BlockLease lease = cache.acquire(pinned, 1)) {
            for (long index = 0; index < 12; index++) {
                read(cache, other, index);
            }
            assertEquals(-1, Content.mismatch(pinned, BLOCK, lease.bytes()));
            read(cache, pinned, 1);
        }
        assertEquals(1, loader.calls(pinned, BLOCK));
        assertTrue(cache.stats().usedBytes() <= 4L * BLOCK);
    }

    @Test
    void readsOutsideTheCapacityWhenPinnedBlocksFillIt() throws IOException {
        BlockCache cache = cache(2);
        FileVersion pinned = file("pinned", 2L * BLOCK);
        FileVersion other = file("other", BLOCK + 500);

        try (BlockLease a = cache.acquire(pinned, 0); BlockLease b = cache.acquire(pinned, 1)) {
            try (BlockLease uncached = cache.acquire(other, 0);
                    BlockLease shared = cache.acquire(other, 0)) {
                check(cache, other, 0, uncached);
                check(cache, other, 0, shared);
                assertEquals(1, loader.calls(other, 0), "a second acquire shares the block");
                assertEquals(BLOCK, cache.stats().uncachedBytes());
                assertEquals(2L * BLOCK, cache.stats().usedBytes(), "capacity not exceeded");
                cache.verifyInvariants();
            }
            read(cache, other, 1);
            assertEquals(BLOCK + 500L, cache.stats().uncachedBytes());
            assertFalse(cache.isFullyCached(other), "blocks outside the capacity never make a file passthrough");
            check(cache, pinned, 0, a);
            check(cache, pinned, 1, b);
        }
        read(cache, other, 0);
        assertEquals(1, loader.calls(other, 0), "the block read outside the capacity was kept");
    }

    @Test
    void smallReadsOfABlockReadOutsideAFullCapacityLoadItOnce() throws IOException {
        BlockCache cache = cache(2);
        FileVersion pinned = file("pinned", 2L * BLOCK);
        FileVersion other = file("other", 3L * BLOCK);
        try (BlockLease a = cache.acquire(pinned, 0); BlockLease b = cache.acquire(pinned, 1)) {
            for (int read = 0; read < 32; read++) { // cat's 128 KiB reads of a 4 MiB block, say
                read(cache, other, read / 16);
            }
        }
        assertEquals(1, loader.calls(other, 0));
        assertEquals(1, loader.calls(other, BLOCK));
        assertEquals(2L * BLOCK, cache.stats().uncachedBytes(), "each block loaded once");
    }

    @Test
    void theOverflowKeepsItsBudgetAndLetsTheLeastRecentlyUsedGoFirst() throws IOException {
        BlockCache cache = cache(2); // overflow: two blocks, the least it may have
        FileVersion pinned = file("pinned", 2L * BLOCK);
        FileVersion other = file("other", 4L * BLOCK);
        try (BlockLease a = cache.acquire(pinned, 0); BlockLease b = cache.acquire(pinned, 1)) {
            read(cache, other, 0);
            read(cache, other, 1);
            read(cache, other, 0); // block 0 is now the most recently used
            read(cache, other, 2); // evicts block 1
            cache.verifyInvariants(); // overflow within its budget, memory files within their blocks
            read(cache, other, 0);
            assertEquals(1, loader.calls(other, 0), "kept: used most recently");
            read(cache, other, 1);
            assertEquals(2, loader.calls(other, BLOCK), "evicted: used least recently");
            assertTrue(cache.allocatedBytes(other) <= 2L * BLOCK, "no more than the budget in memory: "
                    + cache.allocatedBytes(other));
        }
    }

    @Test
    void aReaderWaitsForOverflowRoomRatherThanExceedIt() throws Exception {
        BlockCache cache = cache(2);
        FileVersion pinned = file("pinned", 2L * BLOCK);
        FileVersion other = file("other", 3L * BLOCK);
        try (BlockLease a = cache.acquire(pinned, 0); BlockLease b = cache.acquire(pinned, 1);
                ExecutorService pool = Executors.newSingleThreadExecutor()) {
            BlockLease first = cache.acquire(other, 0);
            BlockLease second = cache.acquire(other, 1); // the overflow is pinned full now
            Future<Long> third = pool.submit(() -> {
                try (BlockLease lease = cache.acquire(other, 2)) {
                    return Content.mismatch(other, 2L * BLOCK, lease.bytes());
                }
            });
            Thread.sleep(300);
            assertFalse(third.isDone(), "no room, not even outside the capacity: the reader waits");
            assertEquals(0, loader.calls(other, 2L * BLOCK));
            first.close(); // room: the waiting block's load goes on
            assertEquals(-1L, third.get(10, TimeUnit.SECONDS));
            second.close();
        }
        awaitQuiet(cache);
    }

    @Test
    void largeCapacityAndFilesCostNoHeap() throws IOException {
        // 20 GiB capacity and a 16 GiB file under the tests' -Xmx512m: only what is read costs
        int block = 4 << 20;
        BlockCache cache = cache(new CacheSettings(20L << 30, block, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
        FileVersion huge = file("huge.ckpt", 16L << 30);
        long last = cache.layout().blockCount(huge.size()) - 1;

        read(cache, huge, last);
        read(cache, huge, 0);

        assertEquals(2L * block, cache.stats().usedBytes());
        assertEquals(2L * block, cache.allocatedBytes(huge));
    }

    // ---- Singleflight and failures --------------------------------------------------------

    @Test
    void concurrentMissesOfOneBlockLoadOnce() throws Exception {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 2L * BLOCK);
        int threads = 8;
        loader.holdLoads();
        List<Future<Long>> readers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                readers.add(pool.submit(() -> {
                    try (BlockLease lease = cache.acquire(file, 1)) {
                        return Content.mismatch(file, BLOCK, lease.bytes());
                    }
                }));
            }
            awaitUntil(() -> cache.stats().misses() == threads, "all readers waiting");
            loader.releaseLoads();
            for (Future<Long> reader : readers) {
                assertEquals(-1, reader.get());
            }
        }
        assertEquals(1, loader.calls(file, BLOCK));
        assertEquals(BLOCK, cache.stats().usedBytes());
    }

    @Test
    void failedLoadIsNotCachedAndNextAcquireRetries() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 2L * BLOCK);
        loader.failNext(1);

        IOException failure = assertThrows(IOException.class, () -> cache.acquire(file, 0));

        assertTrue(failure.getMessage().contains("source changed"), failure.getMessage());
        assertTrue(failure.getCause().getMessage().contains("source changed"), "the loader's own failure is the cause");
        awaitQuiet(cache); // the stream punches the partly written range after waking the reader
        CacheStats stats = cache.stats();
        assertEquals(1, stats.failedLoads());
        assertEquals(0, stats.usedBytes());
        assertEquals(0, stats.blocks());
        assertEquals(0, cache.allocatedBytes(file), "partly written bytes were punched");
        read(cache, file, 0);
        assertEquals(2, loader.calls(file, 0));
    }

    @Test
    void waitersOfAFailedLoadFailTooAndTheNextAcquireRetries() throws Exception {
        BlockCache cache = cache(8);
        FileVersion file = file("a", BLOCK);
        loader.holdLoads();
        loader.failNext(1);
        List<Future<BlockLease>> readers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            for (int t = 0; t < 4; t++) {
                readers.add(pool.submit(() -> cache.acquire(file, 0)));
            }
            awaitUntil(() -> cache.stats().misses() == 4, "all readers waiting");
            loader.releaseLoads();
            for (Future<BlockLease> reader : readers) {
                Exception e = assertThrows(Exception.class, reader::get);
                assertTrue(e.getCause() instanceof IOException, e.toString());
            }
        }
        assertEquals(1, loader.calls(file, 0));
        read(cache, file, 0);
        assertEquals(2, loader.calls(file, 0));
    }

    @Test
    void interruptedWaiterGivesUpItsPin() throws Exception {
        BlockCache cache = cache(8);
        FileVersion file = file("a", BLOCK);
        loader.holdLoads();
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            Future<?> loading = pool.submit(() -> {
                read(cache, file, 0);
                return null;
            });
            awaitUntil(() -> loader.totalCalls() == 1, "first reader loading");
            Thread[] waiter = new Thread[1];
            Future<?> waiting = pool.submit(() -> {
                waiter[0] = Thread.currentThread();
                return cache.acquire(file, 0);
            });
            awaitUntil(() -> cache.stats().misses() == 2, "second reader waiting");
            waiter[0].interrupt();
            Exception e = assertThrows(Exception.class, waiting::get);
            assertTrue(e.getCause() instanceof InterruptedIOException, e.toString());
            loader.releaseLoads();
            loading.get();
        }
        cache.verifyInvariants(); // no pin left: the block is evictable
        assertEquals(1, loader.calls(file, 0));
    }

    // ---- Versions --------------------------------------------------------------------------

    @Test
    void newVersionOfAPathNeverSeesOldBytes() throws IOException {
        BlockCache cache = cache(8);
        FileVersion old = new FileVersion("model.bin", 2L * BLOCK, 1);
        FileVersion changed = new FileVersion("model.bin", 2L * BLOCK, 2);
        read(cache, old, 0);
        read(cache, old, 1);

        read(cache, changed, 0);
        read(cache, changed, 1);

        assertEquals(1, loader.calls(changed, 0));
        assertEquals(1, loader.calls(changed, BLOCK));
        assertTrue(cache.isFullyCached(old));
        assertTrue(cache.isFullyCached(changed));
    }

    @Test
    void dropPathFreesBlocksOfOtherVersions() throws IOException {
        BlockCache cache = cache(8);
        FileVersion old = new FileVersion("model.bin", 2L * BLOCK, 1);
        FileVersion changed = new FileVersion("model.bin", 2L * BLOCK, 2);
        FileVersion unrelated = file("other.bin", BLOCK);
        Stream.of(old, changed).forEach(v -> {
            read(cache, v, 0);
            read(cache, v, 1);
        });
        read(cache, unrelated, 0);

        cache.dropPath("model.bin", changed);

        assertFalse(cache.isFullyCached(old));
        assertTrue(cache.isFullyCached(changed));
        assertTrue(cache.isFullyCached(unrelated));
        assertEquals(3L * BLOCK, cache.stats().usedBytes());
        assertEquals(0, cache.allocatedBytes(old));
        cache.dropPath("model.bin", null);
        assertEquals(BLOCK, cache.stats().usedBytes());
        assertEquals(1, openCacheFiles().size(), "the dropped versions' memory files are closed");
    }

    @Test
    void dropPathGivesBackPinnedBlocksOnceUnpinned() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("model.bin", 2L * BLOCK);
        read(cache, file, 1);
        try (BlockLease lease = cache.acquire(file, 0)) {
            cache.dropPath("model.bin", null);

            assertEquals(BLOCK, cache.stats().usedBytes(), "the pinned block is still held");
            check(cache, file, 0, lease);
            cache.verifyInvariants();
        }
        assertEquals(0, cache.stats().usedBytes());
        assertEquals(List.of(), openCacheFiles());
        read(cache, file, 0);
        assertEquals(2, loader.calls(file, 0), "a dropped version loads afresh");
    }

    // ---- Whole files -----------------------------------------------------------------------

    @Test
    void pinWholeOnlyWhenAllBlocksPresent() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("whole", 2L * BLOCK + 77);
        assertEquals(Optional.empty(), cache.pinWhole(file));
        read(cache, file, 0);
        read(cache, file, 1);
        assertEquals(Optional.empty(), cache.pinWhole(file));
        assertFalse(cache.isFullyCached(file));

        read(cache, file, 2);

        assertTrue(cache.isFullyCached(file));
        assertEquals(1, cache.stats().fullyCachedFiles());
        try (PinnedFile pinned = cache.pinWhole(file).orElseThrow()) {
            assertEquals(file, pinned.file());
            assertFileHolds(file, pinned.fd());
        }
    }

    @Test
    void wholePinnedFileSurvivesPressureAndIsEvictableAfterItsLastHandle() throws IOException {
        BlockCache cache = cache(6);
        FileVersion file = file("whole", 3L * BLOCK);
        FileVersion other = file("other", 20L * BLOCK);
        for (long index = 0; index < 3; index++) {
            read(cache, file, index);
        }
        PinnedFile first = cache.pinWhole(file).orElseThrow();
        PinnedFile second = cache.pinWhole(file).orElseThrow();

        for (long index = 0; index < 20; index++) {
            read(cache, other, index);
        }
        assertTrue(cache.isFullyCached(file));
        first.close();
        first.close(); // harmless
        for (long index = 0; index < 20; index++) {
            read(cache, other, index);
        }
        assertTrue(cache.isFullyCached(file), "still pinned by the second handle");
        assertFileHolds(file, second.fd());
        second.close();

        for (long index = 0; index < 20; index++) {
            read(cache, other, index);
        }
        assertFalse(cache.isFullyCached(file));
        for (long index = 0; index < 3; index++) {
            assertEquals(1, loader.calls(file, index * BLOCK), "never reloaded while pinned");
        }
    }

    @Test
    void zeroLengthFilesAreFullyCachedAndPinnable() throws IOException {
        BlockCache cache = cache(2);
        FileVersion empty = file("empty", 0);

        assertTrue(cache.isFullyCached(empty));
        try (PinnedFile pinned = cache.pinWhole(empty).orElseThrow()) {
            assertFileHolds(empty, pinned.fd());
        }
        assertEquals(0, loader.totalCalls());
    }

    // ---- Prefetch --------------------------------------------------------------------------

    @Test
    void prefetchLoadsBlocksInTheBackground() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 5L * BLOCK - 10);

        cache.prefetch(file, 0, 100); // past the end: clipped

        awaitUntil(() -> cache.isFullyCached(file), "prefetched");
        for (long index = 0; index < 5; index++) {
            read(cache, file, index);
            assertEquals(1, loader.calls(file, index * BLOCK));
        }
        assertEquals(5, cache.stats().hits());
    }

    @Test
    void loadWholeLoadsEveryBlockInTheBackgroundOnce() throws IOException {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 6L * BLOCK + 7);

        assertTrue(cache.loadWhole(file));
        assertTrue(cache.loadWhole(file), "asking again while it loads is no new load");

        awaitUntil(() -> cache.isFullyCached(file), "loaded whole");
        for (long index = 0; index < 7; index++) {
            assertEquals(1, loader.calls(file, index * BLOCK), "block " + index);
            read(cache, file, index);
        }
        awaitQuiet(cache);
    }

    @Test
    void aFileOpenedWhileTheLastOnesStreamsLingerGetsAllItsStreams() throws IOException {
        loader.startWith(4);
        BlockCache cache = cache(2200);
        FileVersion last = file("last", 2L * BLOCK);
        assertTrue(cache.loadWhole(last));
        awaitUntil(() -> cache.isFullyCached(last), "the last file loaded");
        int opened = loader.opens();
        assertEquals(1, cache.loadStats().streams(), "the last file's stream lingers, out of work, for the next readahead");
        // large enough for four streams (a split leaves each at least 32 MiB)
        FileVersion next = file("next", 2048L * BLOCK);
        loader.holdLoads();

        assertTrue(cache.loadWhole(next));

        awaitUntil(() -> loader.opens() == opened + 4,
                "four streams for the next file, not four shared with a load that is done");
    }

    @Test
    void theRunsAfterTheOneBeingReadHaveTheirPagesPopulatedMeanwhile() throws IOException {
        loader.readRuns();
        int block = 1 << 20;
        long run = BlockLoads.RUN_BYTES;
        BlockCache cache = cache(new CacheSettings(8 * run, block, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
        FileVersion file = file("model", 6 * run);
        loader.holdLoads();

        assertTrue(cache.loadWhole(file));

        // the first run's read waits on its source; the runs after it are claimed, and their
        // pages are populated before their reads start
        awaitUntil(() -> allocatedBytes(cache, file) == 3 * run,
                "the pages of the run being read and of the two claimed after it populated");
        assertEquals(1, loader.totalCalls(), "nothing read but the first block, which waits");
        loader.releaseLoads();
        awaitUntil(() -> cache.isFullyCached(file), "loaded whole");
        for (long index = 0; index < 6 * run / block; index++) {
            assertEquals(1, loader.calls(file, index * block), "block " + index);
            read(cache, file, index);
        }
        assertEquals(6 * run, allocatedBytes(cache, file));
        awaitQuiet(cache);
    }

    @Test
    void loadWholeOfAFileThatDoesNotFitLeavesNothingBehind() throws IOException {
        BlockCache cache = cache(4);
        FileVersion file = file("huge", 5L * BLOCK);

        assertFalse(cache.loadWhole(file), "five blocks do not fit in four");

        assertTrue(cache.isIdle(), "nothing in flight after a refused whole-file load");
        assertEquals(0, loader.totalCalls());
        assertEquals(List.of(), openCacheFiles(), "no memory file kept for a file with nothing cached");
    }

    @Test
    void acquireJoinsAPrefetchInFlight() throws Exception {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 2L * BLOCK);
        loader.holdLoads();
        cache.prefetch(file, 0, 1);
        awaitUntil(() -> loader.totalCalls() == 1, "prefetch loading");

        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<Long> reader = pool.submit(() -> {
                try (BlockLease lease = cache.acquire(file, 0)) {
                    return Content.mismatch(file, 0, lease.bytes());
                }
            });
            awaitUntil(() -> cache.stats().misses() == 1, "reader waiting");
            loader.releaseLoads();
            assertEquals(-1, reader.get());
        }
        assertEquals(1, loader.calls(file, 0));
    }

    @Test
    void aMissOfAPrefetchedBlockWaitsForTheStreamThatWillReadItNext() throws Exception {
        BlockCache cache = cache(8);
        FileVersion file = file("a", 2L * BLOCK);
        loader.holdLoads();
        cache.prefetch(file, 0, 1);
        awaitUntil(() -> loader.totalCalls() == 1, "a stream loading block 0");
        cache.prefetch(file, 1, 1); // right after the stream's run: it goes on to it

        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<Long> reader = pool.submit(() -> {
                try (BlockLease lease = cache.acquire(file, 1)) {
                    return Content.mismatch(file, BLOCK, lease.bytes());
                }
            });
            awaitUntil(() -> cache.stats().misses() == 1, "reader waiting");
            assertEquals(0, loader.calls(file, BLOCK), "no second stream, no second handle: it waits its turn");
            loader.releaseLoads();
            assertEquals(-1, reader.get());
        }
        assertEquals(1, loader.calls(file, BLOCK));
        assertEquals(1, loader.opens(), "both blocks through one reader");
    }

    @Test
    void prefetchNeverDisplacesPinnedBlocks() throws IOException {
        BlockCache cache = cache(2);
        FileVersion pinned = file("pinned", 2L * BLOCK);
        FileVersion other = file("other", 4L * BLOCK);
        try (BlockLease _ = cache.acquire(pinned, 0); BlockLease _ = cache.acquire(pinned, 1)) {
            cache.prefetch(other, 0, 4);
            cache.close(); // waits for the prefetches to end
            assertEquals(0, loader.calls(other, 0) + loader.calls(other, 3L * BLOCK));
            assertEquals(0, cache.stats().uncachedBytes());
        }
    }

    // ---- Storage and lifecycle -------------------------------------------------------------

    @Test
    void storeDirectoryWorksTheSame() throws IOException {
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "cachefs-test-");
        try {
            BlockCache cache = cache(new CacheSettings(4L * BLOCK, BLOCK, dir, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
            FileVersion file = file("models/b.bin", 2L * BLOCK + 5);
            FileVersion other = file("other", 4L * BLOCK);
            for (long index = 0; index < 3; index++) {
                read(cache, file, index);
            }
            assertEquals(2, storeFiles(dir), "a block file and its index");
            try (PinnedFile pinned = cache.pinWhole(file).orElseThrow()) {
                assertFileHolds(file, pinned.fd());
            }
            for (long index = 0; index < 4; index++) {
                read(cache, other, index); // evicts all of file: its store files go
            }
            assertEquals(4L * BLOCK, cache.allocatedBytes(other));
            // once its idle load stream has gone too (it keeps the version for a moment)
            awaitUntil(() -> storeFiles(dir) == 2, "the evicted version's store files deleted");
            cache.verifyInvariants();
            cache.close();
            assertEquals(2, storeFiles(dir), "close keeps the files of what the cache holds, for the next one");
        } finally {
            StoreAdoptionTest.deleteStore(dir);
        }
    }

    @Test
    void storeDirectoryMustExistOnTmpfs() throws IOException {
        Path missing = Path.of("/dev/shm/cachefs-test-missing-" + ProcessHandle.current().pid());
        assertThrows(IllegalArgumentException.class, () -> new BlockCache(
                new CacheSettings(4L * BLOCK, BLOCK, missing, CacheSettings.DEFAULT_SOURCE_TIMEOUT), loader));
        Path diskDir = Files.createTempDirectory("cachefs-test-");
        try {
            if (!Files.getFileStore(diskDir).type().equals("tmpfs")) {
                assertThrows(IllegalArgumentException.class, () -> new BlockCache(
                        new CacheSettings(4L * BLOCK, BLOCK, diskDir, CacheSettings.DEFAULT_SOURCE_TIMEOUT), loader));
            }
        } finally {
            Files.delete(diskDir);
        }
    }

    @Test
    void closeFreesMemoryEvenWithLeasesAndPinsOpen() throws Exception {
        BlockCache cache = cache(4);
        FileVersion file = file("a", BLOCK);
        read(cache, file, 0);
        BlockLease lease = cache.acquire(file, 0);
        PinnedFile pinned = cache.pinWhole(file).orElseThrow();
        cache.prefetch(file("b", 8L * BLOCK), 0, 8);

        cache.close();

        assertEquals(List.of(), openCacheFiles());
        assertNoLoaderThreads();
        assertThrows(IllegalStateException.class, () -> cache.acquire(file, 0));
        assertThrows(IllegalStateException.class, () -> lease.bytes().get(
                ValueLayout.JAVA_BYTE, 0), "freed memory is not readable");
        lease.close();
        pinned.close();
        cache.close();
    }

    // ---- Helpers ---------------------------------------------------------------------------

    private BlockCache cache(int capacityBlocks) {
        return cache(new CacheSettings(capacityBlocks * (long) BLOCK, BLOCK, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
    }

    private BlockCache cache(CacheSettings settings) {
        BlockCache cache = new BlockCache(settings, loader);
        caches.add(cache);
        return cache;
    }

    private static FileVersion file(String path, long size) {
        return new FileVersion(path, size, 1_700_000_000_000_000_000L);
    }

    private static long allocatedBytes(BlockCache cache, FileVersion file) {
        try {
            return cache.allocatedBytes(file);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Reads and checks one block. */
    private static void read(BlockCache cache, FileVersion file, long index) {
        try (BlockLease lease = cache.acquire(file, index)) {
            check(cache, file, index, lease);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Reads and checks one block; a read of a version dropped meanwhile may fail, never return wrong bytes. */
    private static void readUnlessDropped(BlockCache cache, FileVersion file, long index) {
        try (BlockLease lease = cache.acquire(file, index)) {
            check(cache, file, index, lease);
        } catch (IOException e) {
            if (!(e.getCause() instanceof StaleVersionException)) {
                throw new AssertionError(e);
            }
        }
    }

    private static void check(BlockCache cache, FileVersion file, long index, BlockLease lease) {
        assertEquals(cache.layout().length(file, index), lease.bytes().byteSize());
        long mismatch = Content.mismatch(file, cache.layout().offset(index), lease.bytes());
        if (mismatch != -1) {
            throw new AssertionError("block " + index + " of " + file + " wrong at " + mismatch);
        }
    }

    /** Reads the memory file through its descriptor, as the kernel would in passthrough. */
    private static void assertFileHolds(FileVersion file, int fd) throws IOException {
        try (FileChannel channel = FileChannel.open(Path.of("/proc/self/fd/" + fd),
                StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            assertEquals(file.size(), channel.size());
            MemorySegment bytes = arena.allocate(Math.max(1, file.size()));
            var buffer = bytes.asByteBuffer();
            while (buffer.position() < file.size()) {
                if (channel.read(buffer, buffer.position()) < 0) {
                    break;
                }
            }
            assertEquals(file.size(), buffer.position());
            assertEquals(-1, Content.mismatch(file, 0, bytes.asSlice(0, file.size())));
        }
    }

    /** Descriptors of this process open on cache memory files (memfds or store files). */
    private static List<String> openCacheFiles() throws IOException {
        List<String> open = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.contains("memfd:cachefs:") || target.contains("cachefs-test-")) {
                        open.add(target);
                    }
                } catch (IOException e) {
                    // the descriptor of the listing itself, closed by now
                }
            }
        }
        return open;
    }

    private static long storeFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertNoLoaderThreads() throws InterruptedException {
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("cachefs-stream-") || thread.getName().equals("cachefs-watchdog")) {
                thread.join(5_000); // a terminated pool's last worker may still be exiting
                assertFalse(thread.isAlive(), "loader thread left running: " + thread);
            }
        }
    }

    /** Waits for a condition the test cannot be notified of; fails after 10 s. */
    private static void awaitUntil(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** Waits until prefetches started by a test have ended, so that the exact checks apply. */
    private static void awaitQuiet(BlockCache cache) {
        awaitUntil(cache::isIdle, "cache idle");
    }
}
