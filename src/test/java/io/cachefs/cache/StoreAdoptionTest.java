package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A cache started on the store directory a cache before it left: what it adopts, and what it
 * drops rather than serve. The store is a real tmpfs directory; a "restart" is a second cache on
 * it (the daemon tests kill real processes).
 */
class StoreAdoptionTest {

    private static final int BLOCK = 64 * 1024;
    private static final long MTIME = 1_700_000_000_000_000_000L;

    private Path dir;
    private final List<BlockCache> caches = new ArrayList<>();
    private final Map<String, FileVersion> source = new HashMap<>();

    @BeforeEach
    void makeStore() throws IOException {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "cachefs-test-store-");
    }

    @AfterEach
    void closeEverything() throws IOException {
        try {
            for (BlockCache cache : caches) {
                cache.verifyInvariants();
            }
        } finally {
            caches.forEach(BlockCache::close);
            deleteStore(dir);
        }
    }

    @Test
    void aCacheStartedAgainServesWhatTheLastOneHeldWithoutLoading() throws IOException {
        FileVersion a = file("models/a.safetensors", 3L * BLOCK - 100);
        FileVersion b = file("b.bin", 4L * BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, a);
        read(first, b, 1);
        read(first, b, 2);
        first.close();

        CountingLoader loader = new CountingLoader();
        BlockCache second = cache(8, loader);
        AdoptionReport report = second.adopt(sameAsStored());

        assertEquals(List.of(b, a), report.files().stream().sorted(Comparator.comparing(FileVersion::path)).toList());
        assertEquals(5, report.blocks());
        assertEquals(4L * BLOCK + BLOCK, report.bytes(), "the short last block of a counts its whole pages");
        assertEquals(5L * BLOCK, second.stats().usedBytes());
        readAll(second, a);
        read(second, b, 1);
        read(second, b, 2);
        assertEquals(0, loader.totalCalls(), "adopted blocks are served from memory");
        try (PinnedFile whole = second.pinWhole(a).orElseThrow()) {
            assertTrue(whole.fd() >= 0, "a file adopted whole is passed through");
        }
        read(second, b, 0);
        assertEquals(1, loader.totalCalls(), "a block the last cache did not hold is loaded");
    }

    @Test
    void aVersionTheSourceChangedOrDeletedIsDroppedAndItsFilesDeleted() throws IOException {
        FileVersion changed = file("changed.bin", 2L * BLOCK);
        FileVersion deleted = file("deleted.bin", 2L * BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, changed);
        readAll(first, deleted);
        first.close();

        FileVersion replacement = new FileVersion("changed.bin", 2L * BLOCK, MTIME + 1);
        CountingLoader loader = new CountingLoader();
        BlockCache second = cache(8, loader);
        AdoptionReport report = second.adopt(path -> path.equals("changed.bin") ? Optional.of(replacement)
                : Optional.empty());

        assertEquals(2, report.staleFiles());
        assertEquals(0, report.blocks());
        assertEquals(List.of(), storeFiles(), "nothing of either is left in the store");
        readAll(second, replacement);
        assertEquals(2, loader.totalCalls(), "the new version is read anew");
    }

    @Test
    void aBlockWhoseBytesChangedIsDroppedNeverServed() throws IOException {
        FileVersion file = file("model.bin", 4L * BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, file);
        first.close();
        overwrite(only(StoreFiles.BLOCKS_SUFFIX), 2L * BLOCK + 777, new byte[] {1, 2, 3, 4});

        CountingLoader loader = new CountingLoader();
        BlockCache second = cache(8, loader);
        AdoptionReport report = second.adopt(sameAsStored());

        assertEquals(1, report.corruptBlocks());
        assertEquals(3, report.blocks());
        readAll(second, file); // checks every byte against the content
        assertEquals(1, loader.totalCalls(), "only the corrupt block is loaded again");
        assertEquals(1, loader.calls(file, 2L * BLOCK));
    }

    @Test
    void aTornSlotClaimsNothingAndATornHeaderDropsTheFile() throws IOException {
        FileVersion file = file("model.bin", 4L * BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, file);
        first.close();
        Path index = only(StoreIndex.SUFFIX);
        long slotsAt = Files.size(index) - 4L * StoreIndex.SLOT_BYTES;
        overwrite(index, slotsAt + StoreIndex.SLOT_BYTES + 9, new byte[] {0x55}); // block 1's CRC field

        CountingLoader loader = new CountingLoader();
        BlockCache second = cache(8, loader);
        AdoptionReport report = second.adopt(sameAsStored());
        assertEquals(3, report.blocks());
        assertEquals(0, report.corruptBlocks(), "the torn slot is not a claim: its block is not even read");
        readAll(second, file);
        assertEquals(1, loader.calls(file, BLOCK));
        second.close();

        overwrite(only(StoreIndex.SUFFIX), 30, new byte[] {0x55}); // inside the header: the size
        BlockCache third = cache(8, new CountingLoader());
        AdoptionReport dropped = third.adopt(sameAsStored());
        assertEquals(1, dropped.unusableFiles());
        assertEquals(0, dropped.blocks());
        assertEquals(List.of(), storeFiles(), "an index that does not verify takes its block file with it");
    }

    @Test
    void aTruncatedIndexClaimsOnlyTheSlotsItStillHas() throws IOException {
        FileVersion file = file("model.bin", 4L * BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, file);
        first.close();
        Path index = only(StoreIndex.SUFFIX);
        try (FileChannel channel = FileChannel.open(index, StandardOpenOption.WRITE)) {
            channel.truncate(Files.size(index) - StoreIndex.SLOT_BYTES - 5); // block 2's slot torn, 3's gone
        }

        CountingLoader loader = new CountingLoader();
        BlockCache second = cache(8, loader);
        AdoptionReport report = second.adopt(sameAsStored());
        assertEquals(2, report.blocks());
        readAll(second, file);
        assertEquals(2, loader.totalCalls());
        assertEquals(1, loader.calls(file, 2L * BLOCK));
        assertEquals(1, loader.calls(file, 3L * BLOCK));
    }

    @Test
    void evictedBlocksAreForgottenBeforeTheirRangesArePunched() throws IOException {
        FileVersion file = file("model.bin", 4L * BLOCK);
        BlockCache first = cache(2, new CountingLoader());
        readAll(first, file); // blocks 0 and 1 are evicted by 2 and 3
        first.close();

        BlockCache second = cache(8, new CountingLoader());
        AdoptionReport report = second.adopt(sameAsStored());
        assertEquals(2, report.blocks());
        assertEquals(0, report.corruptBlocks(), "the index no longer claimed the punched blocks");
    }

    @Test
    void aSmallerCapacityKeepsTheMostRecentlyLoadedBlocksAndGivesBackTheRest() throws IOException {
        FileVersion older = file("older.bin", 4L * BLOCK);
        FileVersion newer = file("newer.bin", 4L * BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, older);
        readAll(first, newer);
        first.close();

        CountingLoader loader = new CountingLoader();
        BlockCache second = cache(3, loader);
        AdoptionReport report = second.adopt(sameAsStored());

        assertEquals(3, report.blocks());
        assertEquals(5, report.overCapacityBlocks());
        assertEquals(List.of(newer), report.files());
        assertEquals(3L * BLOCK, second.stats().usedBytes());
        assertEquals(3L * BLOCK, second.allocatedBytes(newer), "the dropped block's pages are given back");
        assertEquals(2, storeFiles().size(), "the older file's block file and index are deleted");
        for (long index = 1; index < 4; index++) {
            read(second, newer, index);
        }
        assertEquals(0, loader.totalCalls(), "the three most recently loaded blocks were kept");
        read(second, older, 0); // evicts the least recently used adopted block
        assertEquals(3L * BLOCK, second.stats().usedBytes());
        assertEquals(1, second.stats().evictions());
    }

    @Test
    void aSourceThatDoesNotAnswerIsAskedOnceAndItsVersionsAreKept() throws IOException {
        FileVersion a = file("a.bin", BLOCK);
        FileVersion b = file("b.bin", BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, a);
        readAll(first, b);
        first.close();

        AtomicInteger asked = new AtomicInteger();
        BlockCache second = cache(8, new CountingLoader());
        AdoptionReport report = second.adopt(path -> {
            asked.incrementAndGet();
            throw new IOException("timed out");
        });
        assertEquals(1, asked.get(), "a source that did not answer is asked no more");
        assertEquals(2, report.unverifiedFiles());
        assertEquals(2, report.blocks());
    }

    @Test
    void aDroppedVersionLeavesTheStoreAtOnceEvenWhilePinned() throws IOException {
        FileVersion file = file("model.bin", 2L * BLOCK);
        BlockCache cache = cache(8, new CountingLoader());
        cache.adopt(sameAsStored());
        readAll(cache, file);
        try (BlockLease lease = cache.acquire(file, 0)) {
            cache.dropPath(file.path(), null);
            assertEquals(List.of(), storeFiles(), "a crash now must not leave the dropped version to adopt");
            assertEquals(-1, Content.mismatch(file, 0, lease.bytes()), "the pinned block stays readable");
        }
    }

    @Test
    void blocksOfAnotherBlockSizeAreNotAdopted() throws IOException {
        FileVersion file = file("model.bin", 4L * BLOCK);
        BlockCache first = cache(8, new CountingLoader());
        readAll(first, file);
        first.close();

        BlockCache second = cache(new CacheSettings(8L * BLOCK, 2 * BLOCK, dir, CacheSettings.DEFAULT_SOURCE_TIMEOUT),
                new CountingLoader());
        AdoptionReport report = second.adopt(sameAsStored());
        assertEquals(1, report.unusableFiles());
        assertEquals(List.of(), storeFiles());
    }

    @Test
    void adoptionComesBeforeAnyOtherUse() throws IOException {
        BlockCache cache = cache(8, new CountingLoader());
        read(cache, file("a", BLOCK), 0);
        assertThrows(IllegalStateException.class, () -> cache.adopt(sameAsStored()));
    }

    // ---- Helpers ---------------------------------------------------------------------------

    private BlockCache cache(int capacityBlocks, CountingLoader loader) {
        return cache(new CacheSettings(capacityBlocks * (long) BLOCK, BLOCK, dir, CacheSettings.DEFAULT_SOURCE_TIMEOUT),
                loader);
    }

    private BlockCache cache(CacheSettings settings, CountingLoader loader) {
        BlockCache cache = new BlockCache(settings, loader);
        caches.add(cache);
        return cache;
    }

    /** A source that still has every version the test made. */
    private CurrentVersions sameAsStored() {
        return path -> Optional.ofNullable(source.get(path));
    }

    /** A version of the test's source. */
    private FileVersion file(String path, long size) {
        FileVersion file = new FileVersion(path, size, MTIME);
        source.put(path, file);
        return file;
    }

    private static void readAll(BlockCache cache, FileVersion file) throws IOException {
        for (long index = 0; index < cache.layout().blockCount(file.size()); index++) {
            read(cache, file, index);
        }
    }

    private static void read(BlockCache cache, FileVersion file, long index) throws IOException {
        try (BlockLease lease = cache.acquire(file, index)) {
            long mismatch = Content.mismatch(file, cache.layout().offset(index), lease.bytes());
            assertEquals(-1, mismatch, "block " + index + " of " + file.path() + " wrong at " + mismatch);
        }
    }

    private List<Path> storeFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    /** The one store file whose name ends in {@code suffix}. */
    private Path only(String suffix) throws IOException {
        List<Path> matching = storeFiles().stream().filter(p -> p.toString().endsWith(suffix)).toList();
        assertEquals(1, matching.size(), "store files: " + storeFiles());
        return matching.getFirst();
    }

    private static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    /** Deletes a test's store directory and everything in it. */
    static void deleteStore(Path dir) throws IOException {
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
