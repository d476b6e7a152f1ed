package io.cachefs.peer;

import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLease;
import io.cachefs.cache.BlockLoader;
import io.cachefs.cache.BlockOrigin;
import io.cachefs.cache.CacheSettings;
import io.cachefs.source.FileVersion;
import io.cachefs.source.LocalDirSource;
import io.cachefs.source.SourceEntry;
import io.cachefs.source.StaleVersionException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link LocalBlocks} as the daemon would build it: a real {@link BlockCache} over a real
 * {@link LocalDirSource}. It counts source reads (to see singleflight across peers) and open
 * leases (to see that the server unpins every block it sends), and can hold loads at a gate.
 *
 * <p>The cache has no "only if present" lookup, so {@link #inMemory} answers from the set of
 * blocks this instance has loaded; the tests never evict.
 */
final class SourceBlocks implements LocalBlocks, AutoCloseable {

    private record Key(FileVersion file, long index) {}

    final LocalDirSource source;
    final BlockCache cache;
    final AtomicInteger sourceReads = new AtomicInteger();
    final AtomicInteger openLeases = new AtomicInteger();
    /** Load requests that reached this instance's blocks (each then waits on the cache, or loads). */
    final AtomicInteger loadRequests = new AtomicInteger();
    private final Set<Key> loaded = ConcurrentHashMap.newKeySet();
    private volatile CountDownLatch gate = new CountDownLatch(0);

    SourceBlocks(Path root, int blockSize) throws IOException {
        this.source = new LocalDirSource(root);
        this.cache = new BlockCache(new CacheSettings(64L * blockSize, blockSize, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT),
                BlockLoader.of((block, dst) -> readSource(block.file(), block.offset(), dst)));
    }

    private BlockOrigin readSource(FileVersion file, long offset, MemorySegment dst)
            throws IOException {
        sourceReads.incrementAndGet();
        try {
            gate.await();
        } catch (InterruptedException e) {
            throw new InterruptedIOException("interrupted at the gate");
        }
        source.read(file, offset, dst);
        return BlockOrigin.SOURCE;
    }

    /** Makes source reads wait until {@link #releaseLoads()}. */
    void holdLoads() {
        gate = new CountDownLatch(1);
    }

    void releaseLoads() {
        gate.countDown();
    }

    /** The current version of {@code path} in the source. */
    FileVersion version(String path) throws IOException {
        return source.stat(path).orElseThrow().version();
    }

    @Override
    public int blockSize() {
        return cache.layout().blockSize();
    }

    @Override
    public BlockLease inMemory(FileVersion file, long index) throws IOException {
        if (!isCurrent(file) || !loaded.contains(new Key(file, index))) {
            return null;
        }
        return counted(cache.acquire(file, index));
    }

    @Override
    public BlockLease load(FileVersion file, long index) throws IOException {
        if (!isCurrent(file)) {
            throw new StaleVersionException(file, "not the current version");
        }
        loadRequests.incrementAndGet();
        BlockLease lease = cache.acquire(file, index);
        loaded.add(new Key(file, index));
        return counted(lease);
    }

    private boolean isCurrent(FileVersion file) throws IOException {
        Optional<SourceEntry> entry = source.stat(file.path());
        if (entry.isEmpty() || entry.get().kind() != SourceEntry.Kind.FILE) {
            throw new NoSuchFileException(file.path());
        }
        return entry.get().version().equals(file);
    }

    private BlockLease counted(BlockLease lease) {
        openLeases.incrementAndGet();
        AtomicBoolean closed = new AtomicBoolean();
        return new BlockLease() {
            @Override
            public MemorySegment bytes() {
                return lease.bytes();
            }

            @Override
            public long deliverFresh(long bytes) {
                return lease.deliverFresh(bytes);
            }

            @Override
            public BlockOrigin origin() {
                return lease.origin();
            }

            @Override
            public int crc32c() {
                return lease.crc32c();
            }

            @Override
            public void close() {
                if (closed.compareAndSet(false, true)) {
                    openLeases.decrementAndGet();
                    lease.close();
                }
            }
        };
    }

    @Override
    public void close() {
        releaseLoads();
        cache.close();
    }
}
