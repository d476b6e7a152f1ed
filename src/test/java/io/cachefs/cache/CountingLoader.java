package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loader of {@link Content} that counts its calls per block, and can be made to wait at a
 * gate or to fail, so tests can hold loads in flight and observe what the cache does meanwhile.
 */
final class CountingLoader implements BlockLoader {

    private final AtomicInteger opens = new AtomicInteger();

    @Override
    public BlockReader open(FileVersion file) {
        opens.incrementAndGet();
        return BlockLoader.of((block, dst) -> load(block.file(), block.offset(), dst)).open(file);
    }

    private volatile int firstStreams = 1;
    private volatile boolean runs;

    /** Claims several blocks per read, as a source loader does (they are still loaded one by one here). */
    void readRuns() {
        runs = true;
    }

    @Override
    public boolean loadsRuns() {
        return runs;
    }

    @Override
    public int firstStreams() {
        return firstStreams;
    }

    /** Whole-file loads start with {@code streams} streams, as a source that rewards parallel reads asks. */
    void startWith(int streams) {
        firstStreams = streams;
    }

    /** Readers opened: one per load stream. */
    int opens() {
        return opens.get();
    }

    private record Key(FileVersion file, long offset) {}

    private final Map<Key, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final AtomicInteger failuresLeft = new AtomicInteger();
    private volatile CountDownLatch gate = new CountDownLatch(0);

    BlockOrigin load(FileVersion file, long offset, MemorySegment dst) throws IOException {
        calls.computeIfAbsent(new Key(file, offset), key -> new AtomicInteger()).incrementAndGet();
        total.incrementAndGet();
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            // write a little first: a failed load's partial bytes must not survive
            dst.asSlice(0, Math.min(4096, dst.byteSize())).fill((byte) 0x5A);
            throw new IOException("source changed under " + file.path());
        }
        Content.fill(file, offset, dst);
        return BlockOrigin.SOURCE;
    }

    /** Calls for the block at {@code offset} of {@code file}. */
    int calls(FileVersion file, long offset) {
        AtomicInteger count = calls.get(new Key(file, offset));
        return count == null ? 0 : count.get();
    }

    int totalCalls() {
        return total.get();
    }

    /** Makes loads wait, once called, until {@link #releaseLoads()}. */
    void holdLoads() {
        gate = new CountDownLatch(1);
    }

    void releaseLoads() {
        gate.countDown();
    }

    /** Makes the next {@code n} loads fail. */
    void failNext(int n) {
        failuresLeft.set(n);
    }
}
