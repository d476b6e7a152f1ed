package io.cachefs.fs;

import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLoader;
import io.cachefs.cache.CacheSettings;
import io.cachefs.fuse.FuseMount;
import io.cachefs.fuse.MountOptions;
import io.cachefs.source.FileVersion;
import io.cachefs.source.LocalDirSource;
import io.cachefs.source.Source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import io.cachefs.cache.BlockOrigin;
import io.cachefs.fuse.TestMounts;
import java.io.InterruptedIOException;

/**
 * CacheFS mounted for real over a temporary source directory, with every source read counted per
 * block; closing unmounts and deletes both directories, whatever the test did.
 */
final class MountedCache implements AutoCloseable {
    final Path root;
    final Path source;
    final Path mount;
    final Source sourceTree;
    final Map<String, AtomicInteger> loadsPerBlock = new ConcurrentHashMap<>();
    final AtomicLong sourceBytes = new AtomicLong();
    /** A gate the loader waits at when set: lets a test hold loads in flight. */
    volatile Duration loadDelay = Duration.ZERO;
    BlockCache cache;
    CacheFs fs;
    FuseMount<NodeKey> fuse;

    MountedCache() throws IOException {
        root = Files.createTempDirectory("cachefs-fs-test");
        source = Files.createDirectory(root.resolve("source"));
        mount = Files.createDirectory(root.resolve("mount"));
        sourceTree = new LocalDirSource(source);
    }

    MountedCache mount(long capacity, int blockSize, CacheFsOptions options) throws IOException {
        BlockLoader loader = BlockLoader.of((block, dst) -> load(block.file(), block.offset(), dst));
        cache = new BlockCache(new CacheSettings(capacity, blockSize, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT), loader);
        fs = new CacheFs(sourceTree, cache, options);
        fuse = FuseMount.mount(mount, fs, MountOptions.defaults("cachefs-test").withWorkers(8));
        fs.attach(fuse);
        return this;
    }

    static CacheFsOptions options(boolean passthrough, int readahead) {
        return new CacheFsOptions(passthrough, true, readahead, Long.MAX_VALUE, CacheFsOptions.DEFAULT_METADATA_TIMEOUT);
    }

    private BlockOrigin load(FileVersion file, long offset, MemorySegment dst) throws IOException {
        loadsPerBlock.computeIfAbsent(file.path() + "@" + offset, k -> new AtomicInteger()).incrementAndGet();
        if (!loadDelay.isZero()) {
            try {
                Thread.sleep(loadDelay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
        }
        sourceTree.read(file, offset, dst);
        sourceBytes.addAndGet(dst.byteSize());
        return BlockOrigin.SOURCE;
    }

    Path src(String relative) {
        return source.resolve(relative);
    }

    Path mnt(String relative) {
        return mount.resolve(relative);
    }

    @Override
    public void close() throws Exception {
        try {
            if (fuse != null) {
                fuse.close();
            }
        } finally {
            if (cache != null) {
                cache.close();
            }
            TestMounts.forceUnmount(mount);
            try (Stream<Path> paths = Files.walk(root)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }
}
