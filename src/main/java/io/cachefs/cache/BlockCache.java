package io.cachefs.cache;

import io.cachefs.cache.Block.State;
import io.cachefs.linux.Libc;
import io.cachefs.source.FileVersion;
import io.cachefs.source.StaleVersionException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache of fixed-size file blocks held off the Java heap in memory-backed files, with a hard
 * capacity, least-recently-used eviction, pinning, and loads that run as in-order streams.
 *
 * <h2>Memory</h2>
 * Each file version's blocks live in one sparse {@link MemoryFile} (a memfd, or a file in a
 * tmpfs directory) as long as the source file and mapped once; a block sits at its source
 * offset ({@link BlockLayout}). A loader writes straight into the mapping, so a loaded block
 * is cached without a copy, and a fully cached file can be handed to the kernel as it is
 * (passthrough). Evicting a block punches its hole, which gives its pages back; a version with
 * no blocks, pins or load has its file closed. The Java heap holds only bookkeeping per block
 * held (a {@link Block}, about a hundred bytes) and a bit per block wanted.
 *
 * <h2>Capacity</h2>
 * The {@link CapacityLedger} keeps <em>pages really held &le; usedBytes &le; capacity</em> at
 * every instant: a load reserves its pages before it writes, evicting least-recently-used
 * unpinned blocks, and writes only after their holes are punched. When pinned and loading blocks
 * leave no room, a block a reader waits for goes to a temporary off-heap buffer outside the
 * capacity, freed with its last lease ({@code uncachedBytes}), and loading ahead stops:
 * readahead never displaces anything it cannot.
 *
 * <h2>Loading</h2>
 * No reader ever reads the source itself. A miss queues its block in the version's
 * {@link FileLoad} and waits; readahead and whole-file loading mark blocks wanted. Load
 * <em>streams</em>, threads of their own, claim wanted blocks one at a time in file order
 * through one {@link BlockReader} each (one source handle per stream, not per block), and the
 * {@link StreamTuner} learns how many streams the source rewards. A reader waits at most the
 * source timeout without the load making progress, then fails; a stream whose load takes longer
 * than the timeout is abandoned by the watchdog: its waiters fail, its block stays out of reach
 * until the stuck thread returns, and other streams carry on.
 *
 * <h2>Concurrency</h2>
 * One lock guards the version map, the block tables, the loads, the ledger and the counters. It
 * is held for bookkeeping only, never across a load, a punch, an mmap or a close: a hit is a map
 * lookup, a table probe, a pin and one {@link Lease} allocation. Anything slow is claimed under
 * the lock (a block in state LOADING or RELEASING keeps every other thread out of its range),
 * done outside it, and finished under it again. Such work is counted in {@code workInFlight},
 * and {@link #close} waits for it (but for abandoned loads) before it frees what the work uses.
 *
 * <p>Singleflight: a block has one entry. Whoever finds it QUEUED or LOADING pins it and waits;
 * the load's end leaves that pin in place, so no waiter can lose the block to eviction between
 * the load and its read. A failed load wakes its waiters with the failure and is then forgotten,
 * so the next acquire tries again.
 *
 * <h2>Eviction</h2>
 * LRU over unpinned present blocks. Pinning takes a block out of the LRU list and the last unpin
 * puts it back as the most recently used, so for reads, which unpin right after copying, the
 * order is the order of last use.
 */
public final class BlockCache implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BlockCache.class);

    /** How often a waiting reader looks whether its file's load has gone silent. */
    private static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /**
     * The most a stream reads in one go: 16 MiB, four default blocks. Large reads are what a FUSE
     * object mount serves best (16 MiB reads ran s3fs at 0.95x its straight speed where 4 MiB
     * ones ran at 0.80x); more would only delay the first waiter of the run.
     */
    static final long RUN_BYTES = 16L << 20;
    /** What close() gives loads in flight before it abandons them. */
    private static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final CacheSettings settings;
    private final BlockLayout layout;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when {@link #workInFlight} drops. */
    private final Condition workDone = lock.newCondition();

    // Everything below is guarded by lock.
    /** The live version of each file version seen: where acquires look. */
    private final Map<FileVersion, CachedVersion> versions = new HashMap<>();
    /** Detached versions still pinned or with blocks in flight, so that close() frees them. */
    private final Set<CachedVersion> detachedInUse = new HashSet<>();
    private final CapacityLedger ledger;
    private final LoadStreams streams;
    private long presentBlocks;
    /** Loads and reclamations between their claim and their end. */
    private int workInFlight;
    private boolean closed;
    private long hits;
    private long misses;
    private long loadedBytes;
    private long uncachedBytes;
    private long failedLoads;

    /**
     * @throws IllegalArgumentException if the store directory is missing or not on tmpfs
     */
    public BlockCache(CacheSettings settings, BlockLoader loader) {
        this(settings, loader, "source");
    }

    /** @param sourceName how the log names the source, when it says what loading learned */
    public BlockCache(CacheSettings settings, BlockLoader loader, String sourceName) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.layout = settings.layout();
        MemoryFile.checkStore(settings.storeDir());
        this.ledger = new CapacityLedger(settings.capacityBytes());
        this.streams = new LoadStreams(this, lock, Objects.requireNonNull(loader, "loader"), settings, sourceName);
    }

    public BlockLayout layout() {
        return layout;
    }

    /**
     * Returns block {@code index} of {@code file}, pinned until the lease is closed, loading it
     * on a miss. Concurrent acquires of a missing block share one load. Blocks until the block
     * is there, or until the load has made no progress for the source timeout.
     *
     * @throws IOException if the load failed or timed out (nothing is cached; the next acquire
     *     retries)
     * @throws InterruptedIOException if interrupted while waiting
     * @throws IndexOutOfBoundsException if the file has no such block
     * @throws IllegalStateException if the cache is closed
     */
    public BlockLease acquire(FileVersion file, long index) throws IOException {
        return acquire(file, index, false);
    }

    /**
     * Like {@link #acquire}, for a peer that asked this instance to load the block as the
     * group's owner: if this acquire starts the load, the loader is told not to forward it.
     */
    public BlockLease acquireAsOwner(FileVersion file, long index) throws IOException {
        return acquire(file, index, true);
    }

    private BlockLease acquire(FileVersion file, long index, boolean ownerLoad) throws IOException {
        int length = layout.length(file, index);
        boolean counted = false;
        long waitStart = System.nanoTime();
        while (true) {
            Block block;
            CompletableFuture<Void> settled;
            lock.lock();
            try {
                ensureOpen();
                CachedVersion version = liveVersion(file);
                block = version.blocks.get(index);
                if (block != null && block.state == State.PRESENT) {
                    if (!counted) {
                        hits++;
                    }
                    pin(block);
                    return new Lease(this, block);
                }
                if (!counted) {
                    misses++;
                    counted = true;
                }
                if (block == null) {
                    block = addBlock(version, index, length, State.QUEUED);
                    FileLoad load = streams.loadOf(version);
                    load.demand(index);
                    streams.demand(load, index);
                }
                settled = block.settled();
                if (block.state == State.RELEASING) {
                    block = null; // being punched (evicted, dropped, failed): wait, then look again
                } else {
                    block.ownerLoad |= ownerLoad && block.state == State.QUEUED;
                    block.pins++; // the load's end leaves this pin to us
                }
            } finally {
                lock.unlock();
            }
            if (block != null) {
                return awaitLoad(block, settled, waitStart);
            }
            awaitRelease(file, index, settled);
        }
    }

    /**
     * Returns block {@code index} of {@code file}, pinned, if it is in memory now; null
     * otherwise. Never loads and never waits: a peer asking for a memory-only copy uses this.
     * Counts as a hit (and moves the block to most recently used) when found.
     */
    public BlockLease acquireIfPresent(FileVersion file, long index) {
        lock.lock();
        try {
            ensureOpen();
            CachedVersion version = versions.get(file);
            Block block = version == null ? null : version.blocks.get(index);
            if (block == null || block.state != State.PRESENT || !block.cached) {
                return null;
            }
            hits++;
            pin(block);
            return new Lease(this, block);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Wants blocks {@code [first, first + count)} of {@code file} loaded in the background
     * (readahead), skipping blocks present or in flight and indexes past the end of the file.
     * Returns at once. Best effort: loading ahead stops when pinned blocks leave no room, and
     * failures are only counted.
     */
    public void prefetch(FileVersion file, long first, int count) {
        long from = Math.max(0, first);
        long to = Math.min(layout.blockCount(file.size()), from + Math.max(0, count));
        if (from >= to) {
            return;
        }
        Reclamation reclamation = null;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            CachedVersion version = liveVersion(file);
            FileLoad load = streams.loadOf(version);
            load.want(from, to);
            reclamation = newReclamation();
            streams.wanted(load, reclamation);
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
    }

    /**
     * Loads every missing block of {@code file} in the background, in as many streams as the
     * source rewards, if the missing bytes fit in the room that pinned and loading blocks
     * leave. Returns whether it does; a file that does not fit is left to readahead, since
     * loading it whole would evict its own first blocks.
     */
    public boolean loadWhole(FileVersion file) {
        long blocks = layout.blockCount(file.size());
        Reclamation reclamation = null;
        lock.lock();
        try {
            if (closed || blocks == 0) {
                return false;
            }
            CachedVersion version = liveVersion(file);
            if (version.load != null && version.load.whole) {
                return true;
            }
            long missing = (blocks - version.presentBlocks) * (long) layout.blockSize();
            reclamation = newReclamation();
            if (missing > ledger.capacityBytes() - ledger.unevictableBytes() - streams.pendingWholeBytes()) {
                closeIfUnused(version, reclamation);
                return false;
            }
            FileLoad load = streams.loadOf(version);
            load.whole = true;
            load.want(0, blocks);
            streams.wanted(load, reclamation);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * If every block of {@code file} is present, pins them all and returns a handle on the
     * memory file holding them; otherwise empty. A file of size 0 is always present.
     *
     * @throws IOException if the memory file of an empty file cannot be created
     * @throws IllegalStateException if the cache is closed
     */
    public Optional<PinnedFile> pinWhole(FileVersion file) throws IOException {
        CachedVersion version;
        lock.lock();
        try {
            ensureOpen();
            version = versions.get(file);
            if (version == null && file.size() == 0) {
                version = liveVersion(file);
            }
            if (version == null || !version.fullyPresent()) {
                return Optional.empty();
            }
            version.filePins++;
            version.blocks.forEach(this::pin);
        } finally {
            lock.unlock();
        }
        int fd;
        try {
            fd = version.memory().fd();
        } catch (IOException | RuntimeException e) {
            new FilePin(this, version, -1).close();
            throw e;
        }
        return Optional.of(new FilePin(this, version, fd));
    }

    /**
     * Drops every cached version of {@code path} other than {@code keep} (which may be null):
     * the source file changed or went away. Its loads stop; readers waiting for its blocks fail.
     * Blocks pinned now are given back when unpinned; blocks loading now when loaded and unpinned.
     */
    public void dropPath(String path, FileVersion keep) {
        Reclamation reclamation;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            reclamation = newReclamation();
            for (Iterator<CachedVersion> it = versions.values().iterator(); it.hasNext(); ) {
                CachedVersion version = it.next();
                if (!version.file.path().equals(path) || version.file.equals(keep)) {
                    continue;
                }
                it.remove();
                version.detached = true;
                detachedInUse.add(version);
                if (version.load != null) {
                    streams.cancel(version.load, new StaleVersionException(version.file, "it changed in the source"));
                    streams.retireIfIdle(version.load, reclamation);
                }
                version.blocks.forEach(block -> {
                    if (block.state == State.PRESENT && block.pins == 0) {
                        drop(block, reclamation);
                    }
                });
                closeIfUnused(version, reclamation);
            }
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
    }

    /** True if every block of {@code file} is present (always for a file of size 0). */
    public boolean isFullyCached(FileVersion file) {
        if (file.size() == 0) {
            return true;
        }
        lock.lock();
        try {
            CachedVersion version = versions.get(file);
            return version != null && version.fullyPresent();
        } finally {
            lock.unlock();
        }
    }

    public CacheStats stats() {
        lock.lock();
        try {
            int filesCached = 0;
            int fullyCachedFiles = 0;
            for (CachedVersion version : versions.values()) {
                filesCached += version.presentBlocks > 0 ? 1 : 0;
                fullyCachedFiles += version.blockCount > 0 && version.fullyPresent() ? 1 : 0;
            }
            return new CacheStats(settings.capacityBytes(), ledger.usedBytes(), presentBlocks, ledger.evictions(),
                    hits, misses, loadedBytes, uncachedBytes, failedLoads, filesCached, fullyCachedFiles);
        } finally {
            lock.unlock();
        }
    }

    public LoadStats loadStats() {
        lock.lock();
        try {
            return streams.stats();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the load streams, waits a little for loads in flight to end (abandoning those that
     * do not), and frees all memory and file descriptors but those an abandoned load may still
     * write to. Leases and pinned files still open become invalid: their memory is gone.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            streams.close();
        } finally {
            lock.unlock();
        }
        Set<CachedVersion> stuck = new HashSet<>();
        List<CachedVersion> all;
        List<Arena> buffers = new ArrayList<>();
        boolean interrupted = false;
        lock.lock();
        try {
            long deadline = System.nanoTime() + CLOSE_GRACE_NANOS;
            long left;
            while (workInFlight > streams.abandonedInFlight && (left = deadline - System.nanoTime()) > 0) {
                try {
                    workDone.awaitNanos(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            streams.abandonBusy();
            all = new ArrayList<>(versions.values());
            all.addAll(detachedInUse);
            versions.clear();
            detachedInUse.clear();
            for (CachedVersion version : all) {
                version.blocks.forEach(block -> {
                    if (block.abandoned) {
                        stuck.add(version); // a stuck thread may still write into its memory
                    } else if (block.buffer != null) {
                        buffers.add(block.buffer);
                    }
                });
            }
            ledger.freed(ledger.usedBytes());
            presentBlocks = 0;
        } finally {
            lock.unlock();
        }
        buffers.forEach(Arena::close);
        for (CachedVersion version : all) {
            if (!stuck.contains(version)) {
                version.close();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- Loading: the cache's part of a stream's work ---------------------------------------

    /** Consecutive blocks claimed to be read in one go, and the victims whose room they take. */
    record Claim(List<Block> blocks, Reclamation victims) {}

    /**
     * Claims block {@code index} for {@code stream}, and the blocks after it in the stream's run
     * up to {@link #RUN_BYTES}, to be read in one go; null if the block should be skipped. Under
     * the lock.
     */
    Claim claim(LoadStream stream, long index) {
        Reclamation victims = null;
        Block first = claimOne(stream, index);
        if (first == null) {
            return null;
        }
        if (first.cached) {
            victims = reserve(first.memoryBytes, null);
            long bytes = first.length;
            long runBytes = streams.loadsRuns() ? RUN_BYTES : 0;
            for (long next = index + 1; bytes < runBytes && stream.load.takeNextOfRun(stream, next); next++) {
                Block block = claimOne(stream, next);
                if (block == null || !block.cached || block.ownerLoad != first.ownerLoad) {
                    if (block != null) {
                        unclaim(stream, block); // read it on its own, next
                    }
                    stream.load.untake(stream, next);
                    break;
                }
                victims = reserve(block.memoryBytes, victims);
                bytes += block.length;
            }
        }
        return new Claim(List.copyOf(stream.current), victims);
    }

    /** Claims one block (state LOADING; cached if there is room), or returns null if it is to be skipped. */
    private Block claimOne(LoadStream stream, long index) {
        CachedVersion version = stream.load.version;
        Block block = version.blocks.get(index);
        int length = layout.length(version.file, index);
        boolean room = ledger.canReserve(BlockLayout.memoryBytes(length));
        if (block == null) {
            if (!room) {
                stream.load.dropUndemanded(); // pinned blocks fill the capacity: stop loading ahead
                return null;
            }
            block = addBlock(version, index, length, State.LOADING);
        } else if (block.state == State.QUEUED) {
            if (!room && block.pins == 0) {
                version.blocks.remove(block); // nobody waits for it any more
                return null;
            }
            block.state = State.LOADING;
        } else {
            return null; // present, or someone else's load or release
        }
        block.cached = room;
        if (stream.current.isEmpty()) {
            workInFlight++; // one unit of work per read, however many blocks it takes
        }
        streams.claimed(stream, block);
        return block;
    }

    /** Gives back a block just claimed that turned out not to fit the run (it is claimed again next). */
    private void unclaim(LoadStream stream, Block block) {
        stream.current.remove(block);
        streams.unclaimed(block);
        if (block.pins > 0 || block.ownerLoad) {
            block.state = State.QUEUED; // its waiters keep waiting
        } else {
            block.version.blocks.remove(block);
        }
        block.cached = true;
    }

    /**
     * Runs a claimed read on {@code stream}'s thread, outside the lock: punches the victims whose
     * room it takes, loads into the memory file (or a temporary buffer) and publishes the outcome.
     */
    void load(LoadStream stream, BlockReader reader, Claim claim) {
        List<Block> blocks = claim.blocks();
        Block first = blocks.getFirst();
        Block last = blocks.getLast();
        BlockOrigin[] origins = new BlockOrigin[blocks.size()];
        Throwable failure = null;
        try {
            reclaim(claim.victims());
            MemorySegment dst;
            if (first.cached) {
                dst = first.version.memory().slice(first.offset, last.offset + last.length - first.offset);
                Libc.populate(dst);
            } else {
                first.buffer = Arena.ofShared();
                dst = first.buffer.allocate(first.length, BlockLayout.PAGE_SIZE);
            }
            stream.busySince = Math.max(1, System.nanoTime());
            reader.loadRun(new BlockKey(first.version.file, first.index, layout.blockSize()), blocks.size(), dst,
                    first.ownerLoad, origins);
            for (Block block : blocks) {
                block.bytes = dst.asSlice(block.offset - first.offset, block.length).asReadOnly();
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            stream.busySince = 0;
        }
        finishLoad(stream, blocks, origins, failure);
    }

    private void finishLoad(LoadStream stream, List<Block> blocks, BlockOrigin[] origins, Throwable failure) {
        Reclamation reclamation = null;
        lock.lock();
        try {
            if (streams.finished(stream, failure == null)) {
                // the watchdog failed their waiters long ago; now that the stream is back, the
                // range can be punched and the room given back
                reclamation = newReclamation();
                for (Block block : blocks) {
                    release(block, reclamation);
                }
            } else if (failure == null) {
                for (int i = 0; i < blocks.size(); i++) {
                    Block block = blocks.get(i);
                    publish(block, origins[i] == null ? BlockOrigin.SOURCE : origins[i]);
                    if (block.pins == 0) {
                        reclamation = settleUnpinned(block, reclamation);
                    }
                }
            } else {
                reclamation = newReclamation();
                for (Block block : blocks) {
                    failedLoads++;
                    block.settle(failure);
                    block.pins = 0; // the waiters throw and do not unpin
                    release(block, reclamation);
                }
                if (failure instanceof StaleVersionException stale) {
                    streams.cancel(stream.load, stale); // every block of this version will fail the same way
                } else {
                    // a fresh stream (a fresh source handle) takes over what readers wait for;
                    // loading ahead stops, so a broken source is not read in a loop
                    stream.stopping = true;
                    stream.load.dropUndemanded();
                    LOG.debug("loading {} failed", blocks.getFirst(), failure);
                }
            }
            endWork();
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
    }

    private void publish(Block block, BlockOrigin origin) {
        block.origin = origin;
        block.undelivered = block.length;
        block.crc32c = -1;
        block.state = State.PRESENT;
        if (block.cached) {
            presentBlocks++;
            block.version.presentBlocks++;
            loadedBytes += block.length;
        } else {
            uncachedBytes += block.length;
        }
        block.settle(null);
    }

    /** Gives back the room of a block whose load failed or was abandoned. */
    private void release(Block block, Reclamation reclamation) {
        block.state = State.RELEASING;
        if (block.cached) {
            // the loader may have written part of the range: punch it before the room is
            // given back or the block forgotten
            reclamation.holes.add(block);
            reclamation.bytesFreedByHoles += block.memoryBytes;
        } else {
            block.version.blocks.remove(block);
            block.settle(null); // acquirers that found it RELEASING look again
            if (block.buffer != null) {
                reclamation.buffers.add(block.buffer);
            }
            closeIfUnused(block.version, reclamation);
        }
    }

    private BlockLease awaitLoad(Block block, CompletableFuture<Void> settled, long waitStart) throws IOException {
        try {
            while (true) {
                try {
                    settled.get(WAIT_SLICE_NANOS, TimeUnit.NANOSECONDS);
                    return new Lease(this, block);
                } catch (TimeoutException e) {
                    if (silentSince(block.version, waitStart)) {
                        giveUpOn(block);
                        abandonWait(block);
                        throw new SourceTimeoutException("block " + block.index + " of " + block.version.file.path()
                                + ": the source sent nothing for " + settings.sourceTimeout().toSeconds() + " s");
                    }
                }
            }
        } catch (ExecutionException e) {
            throw new IOException("loading block " + block.index + " of " + block.version.file.path() + " failed: "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            abandonWait(block);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for block " + block.index
                    + " of " + block.version.file.path());
        }
    }

    /** A reader timed out on {@code block}: the stream loading it (if any) is abandoned now, and says so. */
    private void giveUpOn(Block block) {
        lock.lock();
        try {
            streams.abandonLoading(block);
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code version}'s load has delivered nothing since the timeout before now (nor since {@code since}). */
    private boolean silentSince(CachedVersion version, long since) {
        lock.lock();
        try {
            return streams.silentSince(version, since);
        } finally {
            lock.unlock();
        }
    }

    private void awaitRelease(FileVersion file, long index, CompletableFuture<Void> released) throws IOException {
        try {
            released.get(settings.sourceTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new SourceTimeoutException("block " + index + " of " + file.path()
                    + " is still held by a source read that did not return");
        } catch (ExecutionException e) {
            // the release ended the block's previous life; look again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for block " + index + " of " + file.path());
        }
    }

    /** Gives up a pin taken to wait for a load, whatever became of the load. */
    private void abandonWait(Block block) {
        Reclamation reclamation = null;
        lock.lock();
        try {
            switch (block.state) {
                case QUEUED, LOADING -> block.pins = Math.max(0, block.pins - 1);
                case PRESENT -> reclamation = unpinBlock(block, null);
                default -> { } // the load failed: its pins went with it
            }
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
    }

    // ---- Leases and pins -------------------------------------------------------------------

    void unpin(Lease lease) {
        Reclamation reclamation = null;
        lock.lock();
        try {
            if (lease.closed || closed) {
                return;
            }
            lease.closed = true;
            reclamation = unpinBlock(lease.block, null);
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
    }

    void unpin(FilePin pin) {
        Reclamation reclamation;
        lock.lock();
        try {
            if (pin.closed || closed) {
                return;
            }
            pin.closed = true;
            CachedVersion version = pin.version;
            version.filePins--;
            reclamation = newReclamation();
            // a fully present version holds only pinned cached blocks, so unpinning them only
            // moves them to the LRU list or (if dropped) to the reclamation: the table stays
            version.blocks.forEach(block -> unpinBlock(block, reclamation));
            closeIfUnused(version, reclamation);
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
    }

    private void pin(Block block) {
        if (block.pins++ == 0) {
            ledger.unevictable(block);
        }
    }

    /** Removes one pin; returns {@code reclamation}, or a new one if memory must be freed. */
    private Reclamation unpinBlock(Block block, Reclamation reclamation) {
        if (--block.pins == 0 && block.state == State.PRESENT) {
            return settleUnpinned(block, reclamation);
        }
        return reclamation;
    }

    /** Decides the fate of a present block nobody pins any more. */
    private Reclamation settleUnpinned(Block block, Reclamation reclamation) {
        if (!block.cached) {
            reclamation = orNew(reclamation);
            block.version.blocks.remove(block);
            reclamation.buffers.add(block.buffer);
            closeIfUnused(block.version, reclamation);
        } else if (block.version.detached) {
            drop(block, reclamation = orNew(reclamation));
        } else {
            ledger.evictable(block);
        }
        return reclamation;
    }

    // ---- Room and reclamation --------------------------------------------------------------

    /**
     * Reserves {@code bytes} (which the ledger allows), evicting least recently used blocks as
     * needed. Returns the victims, to punch before the reserved bytes are written, or null.
     */
    private Reclamation reserve(long bytes, Reclamation reclamation) {
        long[] surplus = new long[1];
        List<Block> victims = ledger.reserve(bytes, surplus);
        if (victims.isEmpty()) {
            return reclamation;
        }
        reclamation = orNew(reclamation);
        for (Block victim : victims) {
            evict(victim, reclamation);
        }
        reclamation.bytesFreedByHoles += surplus[0];
        return reclamation;
    }

    /** Gives back an unpinned present block of a dropped version. */
    private void drop(Block block, Reclamation reclamation) {
        ledger.unevictable(block);
        evict(block, reclamation);
        reclamation.bytesFreedByHoles += block.memoryBytes;
    }

    private void evict(Block block, Reclamation reclamation) {
        block.state = State.RELEASING;
        presentBlocks--;
        block.version.presentBlocks--;
        reclamation.holes.add(block);
    }

    /** Detaches {@code version} and schedules its file's closing if nothing needs it. */
    void closeIfUnused(CachedVersion version, Reclamation reclamation) {
        if (!version.unused() || version.closing) {
            return;
        }
        version.closing = true;
        if (!version.detached) {
            versions.remove(version.file);
            version.detached = true;
        }
        if (version.load != null) {
            streams.detach(version.load); // its lingering streams end
        }
        detachedInUse.remove(version);
        reclamation.files.add(version);
    }

    Reclamation newReclamation() {
        workInFlight++;
        return new Reclamation();
    }

    private Reclamation orNew(Reclamation reclamation) {
        return reclamation != null ? reclamation : newReclamation();
    }

    /** Gives back the memory gathered in {@code reclamation}; outside the lock. */
    void reclaim(Reclamation reclamation) {
        if (reclamation == null) {
            return;
        }
        try {
            for (Block block : reclamation.holes) {
                MemoryFile memory = block.version.memoryIfCreated();
                if (memory != null) {
                    memory.punch(block.offset, block.memoryBytes);
                }
            }
            reclamation.buffers.forEach(Arena::close);
            if (!reclamation.holes.isEmpty()) {
                lock.lock();
                try {
                    ledger.freed(reclamation.bytesFreedByHoles);
                    for (Block block : reclamation.holes) {
                        block.version.blocks.remove(block);
                        block.settle(null);
                        closeIfUnused(block.version, reclamation);
                    }
                } finally {
                    lock.unlock();
                }
            }
            reclamation.files.forEach(CachedVersion::close);
        } finally {
            lock.lock();
            try {
                endWork();
            } finally {
                lock.unlock();
            }
        }
    }

    private void endWork() {
        workInFlight--;
        workDone.signalAll();
    }

    // ---- Bookkeeping -----------------------------------------------------------------------

    private CachedVersion liveVersion(FileVersion file) {
        CachedVersion version = versions.get(file);
        if (version == null) {
            version = new CachedVersion(file, layout.blockCount(file.size()), settings.storeDir());
            versions.put(file, version);
        }
        return version;
    }

    private Block addBlock(CachedVersion version, long index, int length, State state) {
        Block block = new Block(version, index, layout.offset(index), length, state);
        version.blocks.add(block);
        return block;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the block cache is closed");
        }
    }

    // ---- Checks for tests ------------------------------------------------------------------

    /**
     * Checks the bookkeeping against itself and against the pages the memory files really
     * hold. The exact checks need a quiet cache (no load or reclamation in flight).
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    void verifyInvariants() throws IOException {
        lock.lock();
        try {
            long used = ledger.usedBytes();
            require(used >= 0 && used <= settings.capacityBytes(), "used bytes " + used + " outside [0, capacity]");
            if (workInFlight > 0 || closed) {
                return;
            }
            long reserved = 0;
            long present = 0;
            long allocated = 0;
            int evictable = 0;
            List<CachedVersion> all = new ArrayList<>(versions.values());
            all.addAll(detachedInUse);
            for (CachedVersion version : all) {
                require(!version.unused() && !version.closing, "unused version kept: " + version.file);
                require(version.detached == detachedInUse.contains(version),
                        "detached flag disagrees with the detached set: " + version.file);
                require(version.load == null || streams.loads.contains(version.load), "load not tracked: " + version.file);
                List<Block> blocks = new ArrayList<>();
                version.blocks.forEach(blocks::add);
                require(blocks.size() == version.blocks.size(), "table size of " + version.file);
                long versionPresent = 0;
                for (Block block : blocks) {
                    require(version.blocks.get(block.index) == block, "unreachable " + block);
                    require(block.state == State.QUEUED || block.state == State.PRESENT,
                            "block in flight in a quiet cache: " + block);
                    require(block.cached || block.pins > 0, "unpinned uncached block " + block);
                    boolean canEvict = block.state == State.PRESENT && block.cached && block.pins == 0;
                    require(block.inAccessOrder == canEvict, "LRU membership of " + block);
                    require(!(canEvict && version.detached), "dropped block kept: " + block);
                    if (block.state == State.PRESENT && block.cached) {
                        reserved += block.memoryBytes;
                        versionPresent++;
                    }
                    evictable += block.inAccessOrder ? 1 : 0;
                }
                require(version.presentBlocks == versionPresent, "present count of " + version.file);
                present += versionPresent;
                MemoryFile memory = version.memoryIfCreated();
                if (memory != null) {
                    allocated += memory.allocatedBytes();
                    long versionBytes = blocks.stream()
                            .filter(block -> block.state == State.PRESENT && block.cached)
                            .mapToLong(block -> block.memoryBytes).sum();
                    require(memory.allocatedBytes() <= versionBytes, "memory file of "
                            + version.file + " holds " + memory.allocatedBytes()
                            + " bytes but its blocks only " + versionBytes + ": " + blocks);
                }
            }
            require(used == reserved, "used bytes " + used + " but blocks hold " + reserved);
            require(presentBlocks == present, "present blocks " + presentBlocks + " but " + present);
            require(ledger.evictableBlocks() == evictable, "LRU list size " + ledger.evictableBlocks());
            require(allocated <= used, "memory files hold " + allocated + " bytes but blocks only " + used);
            require(streams.bytesInFlight() == 0, "bytes in flight " + streams.bytesInFlight() + " with no load in flight");
        } finally {
            lock.unlock();
        }
    }

    /** True when no block is wanted, queued, loading or being given back. */
    boolean isIdle() {
        lock.lock();
        try {
            if (workInFlight > 0) {
                return false;
            }
            for (FileLoad load : streams.loads) {
                if (!load.pending.isEmpty()) {
                    return false;
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes of memory the live memory file of {@code file} holds, 0 if none. */
    long allocatedBytes(FileVersion file) throws IOException {
        CachedVersion version;
        lock.lock();
        try {
            version = versions.get(file);
        } finally {
            lock.unlock();
        }
        MemoryFile memory = version == null ? null : version.memoryIfCreated();
        return memory == null ? 0 : memory.allocatedBytes();
    }

    private static void require(boolean invariant, String broken) {
        if (!invariant) {
            throw new IllegalStateException("block cache invariant broken: " + broken);
        }
    }
}
