package io.cachefs.bench;

import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLease;
import io.cachefs.cache.BlockLoader;
import io.cachefs.cache.BlockOrigin;
import io.cachefs.cache.CacheSettings;
import io.cachefs.cache.CacheStats;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The block cache's own cost, without FUSE or a source: a hit (what every READ of a cached block
 * pays), a hit under two-thread contention for the cache lock, and a miss that evicts (what a
 * working set larger than the capacity pays). Loaders only fill memory, so the numbers are the
 * cache's bookkeeping, syscalls (punch, populate) and page faults, not I/O. Run with
 * {@code bench/jmh}; results go to {@code bench/results/jmh.json}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BlockCacheBenchmark {

    /** Writes one byte value over the block: the cheapest loader that still touches its pages. */
    private static final BlockLoader FILL = BlockLoader.of((block, dst) -> {
        dst.fill((byte) 1);
        return BlockOrigin.SOURCE;
    });

    /** Every block of a 64 MiB file, present: a hit never loads, evicts or waits. */
    @State(Scope.Benchmark)
    public static class PresentBlocks {
        /** A power of two, so that a cursor wraps with a mask. */
        static final int BLOCKS = 64;
        /** 1 MiB: the block size only sizes the preload, a hit costs the same for any size. */
        static final int BLOCK_SIZE = 1 << 20;

        final FileVersion file = new FileVersion("bench/hit.bin", (long) BLOCKS * BLOCK_SIZE, 1);
        BlockCache cache;

        @Setup(Level.Trial)
        public void preload() throws IOException {
            cache = new BlockCache(
                    new CacheSettings((long) BLOCKS * BLOCK_SIZE, BLOCK_SIZE, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT), FILL);
            for (int index = 0; index < BLOCKS; index++) {
                cache.acquire(file, index).close();
            }
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            CacheStats stats = cache.stats();
            cache.close();
            if (stats.misses() != BLOCKS || stats.evictions() != 0) {
                throw new IllegalStateException("hits were not all hits: " + stats);
            }
            checkNoMemfdOpen();
        }
    }

    /**
     * 16 blocks of room for 256 blocks read at random: 15 acquires in 16 miss, and each miss
     * evicts the least recently used block and punches its hole before loading its own.
     */
    @State(Scope.Benchmark)
    public static class EvictingBlocks {
        static final int CAPACITY_BLOCKS = 16;
        static final int BLOCKS = 256;
        /** 64 KiB: small enough that filling a block does not drown the cache's own cost. */
        static final int BLOCK_SIZE = 64 << 10;

        final FileVersion file = new FileVersion("bench/evict.bin", (long) BLOCKS * BLOCK_SIZE, 1);
        BlockCache cache;

        @Setup(Level.Trial)
        public void open() {
            cache = new BlockCache(new CacheSettings(
                    (long) CAPACITY_BLOCKS * BLOCK_SIZE, BLOCK_SIZE, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT), FILL);
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            CacheStats stats = cache.stats();
            cache.close();
            System.out.printf("%n%d hits, %d misses, %d evictions, %d bytes outside the capacity%n",
                    stats.hits(), stats.misses(), stats.evictions(), stats.uncachedBytes());
            checkNoMemfdOpen();
        }
    }

    /** Each thread's own walk over the present blocks, so two threads do not share a counter. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;
    }

    // The hot path of every READ of a cached block: lock, lookup, pin, lease, unpin.
    @Benchmark
    public void hit(PresentBlocks blocks, Cursor cursor, Blackhole sink) throws IOException {
        readFirstLong(blocks.cache, blocks.file, cursor.next++ & (PresentBlocks.BLOCKS - 1), sink);
    }

    // Two readers hitting shared blocks: what the single cache lock costs when it is contended.
    @Benchmark
    @Threads(2)
    public void hitContended(PresentBlocks blocks, Cursor cursor, Blackhole sink)
            throws IOException {
        readFirstLong(blocks.cache, blocks.file, cursor.next++ & (PresentBlocks.BLOCKS - 1), sink);
    }

    // A working set 16 times the capacity read by two threads: miss + evict + punch + load.
    @Benchmark
    @Threads(2)
    public void evictionUnderContention(EvictingBlocks blocks, Blackhole sink) throws IOException {
        int index = ThreadLocalRandom.current().nextInt(EvictingBlocks.BLOCKS);
        readFirstLong(blocks.cache, blocks.file, index, sink);
    }

    private static void readFirstLong(BlockCache cache, FileVersion file, long index,
            Blackhole sink) throws IOException {
        try (BlockLease lease = cache.acquire(file, index)) {
            sink.consume(lease.bytes().get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** A closed cache must have closed every memfd it created (they hold the cached memory). */
    private static void checkNoMemfdOpen() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            long open = fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("/memfd:");
                } catch (IOException e) {
                    return false; // the directory stream's own fd, closed by now
                }
            }).count();
            if (open > 0) {
                throw new IllegalStateException(open + " memfd(s) still open after close()");
            }
        }
    }
}
