package io.cachefs.cli;

import io.cachefs.admin.MountContents;
import io.cachefs.cache.BlockCache;
import io.cachefs.cache.CacheStats;
import io.cachefs.source.FileVersion;
import java.util.Comparator;
import java.util.List;

/**
 * Which files a mount's cache holds whole, for {@code /status} and {@code cachefs status}: the
 * versions the cache holds blocks of, those held whole the largest first. Asked of the cache
 * when a report wants it, so it keeps nothing and cannot drift from what the cache holds.
 */
final class CachedFileIndex {
    /** How many files {@code /status} names: the largest, which is where the memory went. */
    static final int BIGGEST = 10;
    private static final long PAGE = 4096;

    private final BlockCache cache;

    CachedFileIndex(BlockCache cache) {
        this.cache = cache;
    }

    /** The files held whole now, the largest first, and how many more are held in part. */
    MountContents contents() {
        CacheStats stats = cache.stats();
        List<MountContents.CachedFile> biggest = cache.heldVersions().stream()
                .filter(cache::isFullyCached)
                .sorted(Comparator.comparingLong(FileVersion::size).reversed().thenComparing(FileVersion::path))
                .limit(BIGGEST)
                .map(file -> new MountContents.CachedFile(file.path(), file.size(), memoryOf(file)))
                .toList();
        return new MountContents(stats.fullyCachedFiles(), stats.filesCached() - stats.fullyCachedFiles(), biggest);
    }

    /** What a whole file holds: every block counts its whole pages, and only the last is short. */
    private static long memoryOf(FileVersion file) {
        return Math.ceilDiv(file.size(), PAGE) * PAGE;
    }
}
