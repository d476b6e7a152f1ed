package io.cachefs.cli;

import io.cachefs.admin.MountContents;
import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockKey;
import io.cachefs.cache.BlockLoader;
import io.cachefs.cache.BlockOrigin;
import io.cachefs.cache.BlockReader;
import io.cachefs.cache.CacheStats;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which files a mount's cache holds whole, for {@code /status} and {@code cachefs status}: the
 * versions the cache loaded blocks of, learned by wrapping its {@link BlockLoader} (every load,
 * a local miss or a peer's owner load, opens a reader), and checked against the cache when asked.
 *
 * <p>The cache reports totals, not files; this index keeps that so. A version leaves the index
 * once it is not fully cached and no reader of it is open: the cache publishes a reader's blocks
 * before it closes the reader, so a version that will become whole always has one open, and the
 * per-key {@code compute} orders the check against a new reader's open.
 */
final class CachedFileIndex implements BlockLoader {
    /** How many files {@code /status} names: the largest, which is where the memory went. */
    static final int BIGGEST = 10;
    private static final long PAGE = 4096;
    /** Past this many versions, opening a reader first forgets those no longer held whole. */
    private static final int PRUNE_ABOVE = 100_000;

    private final BlockLoader loader;
    private final ConcurrentHashMap<FileVersion, Integer> openReaders = new ConcurrentHashMap<>();
    private volatile BlockCache cache;

    CachedFileIndex(BlockLoader loader) {
        this.loader = loader;
    }

    /** The cache this index reports on; set once it exists (it is built with this loader). */
    void attach(BlockCache cache) {
        this.cache = cache;
    }

    /** Versions the cache adopted from its store when it started: no reader ever opened for them. */
    void adopted(List<FileVersion> files) {
        for (FileVersion file : files) {
            openReaders.putIfAbsent(file, 0);
        }
    }

    @Override
    public BlockReader open(FileVersion file) {
        if (openReaders.size() > PRUNE_ABOVE) {
            wholeFiles();
        }
        openReaders.merge(file, 1, Integer::sum);
        BlockReader reader = loader.open(file);
        return new BlockReader() {
            @Override
            public BlockOrigin load(BlockKey block, MemorySegment dst, boolean ownerLoad) throws IOException {
                return reader.load(block, dst, ownerLoad);
            }

            @Override
            public void loadRun(BlockKey first, int count, MemorySegment dst, boolean ownerLoad, BlockOrigin[] origins)
                    throws IOException {
                reader.loadRun(first, count, dst, ownerLoad, origins);
            }

            @Override
            public void close() {
                try {
                    reader.close();
                } finally {
                    openReaders.computeIfPresent(file, (key, open) -> open - 1);
                }
            }
        };
    }

    @Override
    public boolean loadsRuns() {
        return loader.loadsRuns();
    }

    /** The files held whole now, the largest first, and how many more are held in part. */
    MountContents contents() {
        BlockCache cached = cache;
        if (cached == null) {
            return MountContents.NONE;
        }
        List<FileVersion> whole = wholeFiles();
        CacheStats stats = cached.stats();
        whole.sort(Comparator.comparingLong(FileVersion::size).reversed().thenComparing(FileVersion::path));
        List<MountContents.CachedFile> biggest = whole.stream().limit(BIGGEST)
                .map(file -> new MountContents.CachedFile(file.path(), file.size(), memoryOf(file))).toList();
        // counted by the cache itself, so files it holds whole that this index has not seen
        // (none, barring a race with a report) still show in the totals
        return new MountContents(stats.fullyCachedFiles(), stats.filesCached() - stats.fullyCachedFiles(), biggest);
    }

    /** The versions held whole; forgets those neither held whole nor being loaded. */
    private List<FileVersion> wholeFiles() {
        BlockCache cached = cache;
        List<FileVersion> whole = new ArrayList<>();
        if (cached == null) {
            return whole;
        }
        for (FileVersion file : openReaders.keySet()) {
            openReaders.computeIfPresent(file, (key, open) -> {
                if (cached.isFullyCached(key)) {
                    whole.add(key);
                    return open;
                }
                return open > 0 ? open : null;
            });
        }
        return whole;
    }

    /** What a whole file holds: every block counts its whole pages, and only the last is short. */
    private static long memoryOf(FileVersion file) {
        return Math.ceilDiv(file.size(), PAGE) * PAGE;
    }
}
