package io.cachefs.cache;

import io.cachefs.cache.Reclaimer.Reclamation;
import io.cachefs.stats.Counters;
import io.cachefs.cache.Block.State;
import io.cachefs.source.FileVersion;
import io.cachefs.source.StaleVersionException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A cache of fixed-size file blocks held off the Java heap in memory-backed files, with a hard
 * capacity, least-recently-used eviction, pinning, and loads that run as in-order streams. This
 * class coordinates; each policy is a helper of its own under the one lock.
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
 * <h2>Restarts</h2>
 * In a store directory each memory file has an index beside it ({@link StoreIndex}) that
 * records a block once its bytes are complete and forgets it before its range is punched; the
 * files outlive the process (a tmpfs survives a crash of the daemon), and a cache started again
 * adopts what they hold ({@link #adopt}, {@link StoreAdoption}).
 *
 * <h2>Who does what</h2>
 * <ul>
 *   <li>{@link CachedVersions}: the live version of each file version, where acquires look;
 *   <li>{@link CapacityLedger}: <em>pages really held &le; usedBytes &le; capacity</em> at every
 *       instant, and the LRU order of what may be evicted;
 *   <li>{@link Pins}: what is out of eviction's reach, and the fate of a block's last unpin;
 *   <li>{@link Reclaimer}: what is to be given back, decided under the lock and freed outside it;
 *   <li>the miss path: {@link LoadStreams} runs each version's {@link FileLoad} as streams that
 *       {@link BlockLoads#claim claim}, read and publish blocks; no reader ever reads the source.
 * </ul>
 *
 * <h2>Concurrency</h2>
 * One lock guards all of them. It is held for bookkeeping only, never across a load, a punch, an
 * mmap or a close: a hit is a map lookup, a table probe, a pin and one {@link Lease}
 * allocation. Anything slow is claimed under the lock (a block in state LOADING or RELEASING
 * keeps every other thread out of its range), done outside it, and finished under it again.
 * Such work is counted ({@link InFlightWork}), and {@link #close} waits for it (but for
 * abandoned loads) before it frees what the work uses.
 *
 * <h2>Waiting</h2>
 * A miss queues its block in the version's load, pins it and waits ({@link LoadWaiting}); the
 * load's end leaves that pin in place, so no waiter can lose the block to eviction between the
 * load and its read. A reader waits only while its file's load makes progress: after the
 * source timeout of silence it fails, and the stream holding its block is abandoned.
 *
 * <h2>Eviction</h2>
 * LRU over unpinned present blocks. Pinning takes a block out of the LRU list and the last unpin
 * puts it back as the most recently used, so for reads, which unpin right after copying, the
 * order is the order of last use.
 */
public final class BlockCache implements AutoCloseable {

    /** What close() gives loads in flight before it abandons them. */
    private static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final CacheSettings settings;
    private final BlockLayout layout;

    private final ReentrantLock lock = new ReentrantLock();
    // Everything below is guarded by lock.
    private final CachedVersions versions;
    private final CapacityLedger ledger;
    /** Room outside the capacity for blocks readers need when pins fill it ({@link CacheSettings#overflowBytes}). */
    private final CapacityLedger overflow;
    private final InFlightWork work;
    private final Reclaimer reclaimer;
    private final Pins pins;
    private final Counters<CacheCounter> counters = new Counters<>(CacheCounter.class);
    private final LoadStreams streams;
    private final LoadWaiting waiting;
    private final PagePopulator populator = new PagePopulator();
    /** The store directory's files, or null for memfds. */
    private final StoreFiles store;
    /** adopt() ran: it runs once. */
    private boolean adoptionOver;
    private boolean closed;

    /**
     * @throws IllegalArgumentException if the store directory is missing, not on tmpfs or
     *     cannot be listed
     */
    public BlockCache(CacheSettings settings, BlockLoader loader) {
        this(settings, loader, "source");
    }

    /** @param sourceName how the log names the source, when it says what loading learned */
    public BlockCache(CacheSettings settings, BlockLoader loader, String sourceName) {
        this.settings = Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(loader, "loader");
        this.layout = settings.layout();
        MemoryFile.checkStore(settings.storeDir());
        try {
            this.store = settings.storeDir() == null ? null : new StoreFiles(settings.storeDir());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot use cache store directory " + settings.storeDir() + ": "
                    + e.getMessage(), e);
        }
        this.versions = new CachedVersions(layout, store);
        this.ledger = new CapacityLedger(settings.capacityBytes(), counters);
        this.overflow = new CapacityLedger(settings.overflowBytes(), null);
        this.work = new InFlightWork(lock);
        // the helpers are wired before the streams exist; these callbacks run only once they do
        this.reclaimer = new Reclaimer(lock, ledger, overflow, versions, work, load -> streams().detach(load),
                () -> streams().retryStarved());
        this.pins = new Pins(ledger, overflow, reclaimer, () -> streams().retryStarved());
        BlockLoads blockLoads = new BlockLoads(layout, ledger, overflow, versions, reclaimer, pins, counters, work,
                populator, loader.loadsRuns());
        this.streams = new LoadStreams(lock, blockLoads, reclaimer, work, loader, settings, sourceName, counters);
        this.waiting = new LoadWaiting(lock, streams, pins, reclaimer, settings.sourceTimeout());
    }

    private LoadStreams streams() {
        return streams;
    }

    public BlockLayout layout() {
        return layout;
    }

    /**
     * Takes over the blocks that a cache before this one left in the store directory (it was
     * stopped, killed or crashed), keeping those of versions {@code source} still has whose bytes
     * verify, up to the capacity, the most recently loaded first; gives back everything else. See
     * {@link StoreAdoption}. Call once, before any other use; without a store directory it does
     * nothing.
     *
     * @throws IllegalStateException if the cache was used already, or is closed
     */
    public AdoptionReport adopt(CurrentVersions source) {
        lock.lock();
        try {
            ensureOpen();
            if (adoptionOver || !versions.all().isEmpty()) {
                throw new IllegalStateException("adopt the store before any other use of the cache");
            }
            adoptionOver = true;
        } finally {
            lock.unlock();
        }
        if (store == null) {
            return AdoptionReport.NONE;
        }
        StoreAdoption adoption = new StoreAdoption(store, layout, settings.capacityBytes());
        AdoptionReport report = adoption.run(source); // reads and checksums: no lock
        lock.lock();
        try {
            ensureOpen();
            if (!versions.all().isEmpty()) {
                throw new IllegalStateException("the cache was used while it adopted its store");
            }
            adoption.install(versions, ledger);
        } finally {
            lock.unlock();
        }
        return report;
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
        layout.length(file, index); // rejects an index outside the file
        boolean counted = false;
        long waitStart = System.nanoTime();
        while (true) {
            Block block;
            CompletableFuture<Void> settled;
            lock.lock();
            try {
                ensureOpen();
                CachedVersion version = versions.live(file);
                block = version.blocks.get(index);
                if (block != null && block.state == State.PRESENT) {
                    if (!counted) {
                        counters.increment(CacheCounter.HITS);
                    }
                    pins.pin(block);
                    return new Lease(this, block);
                }
                if (!counted) {
                    counters.increment(CacheCounter.MISSES);
                    counted = true;
                }
                if (block == null) {
                    block = versions.addBlock(version, index, State.QUEUED);
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
                waiting.awaitLoad(block, settled, waitStart);
                return new Lease(this, block);
            }
            waiting.awaitRelease(file, index, settled);
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
            CachedVersion version = versions.find(file);
            Block block = version == null ? null : version.blocks.get(index);
            if (block == null || block.state != State.PRESENT || !block.cached) {
                return null;
            }
            counters.increment(CacheCounter.HITS);
            pins.pin(block);
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
        Reclamation reclamation;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            FileLoad load = streams.loadOf(versions.live(file));
            load.want(from, to);
            reclamation = reclaimer.start();
            streams.wanted(load, reclamation);
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
    }

    /**
     * Loads every missing block of {@code file} in the background, in as many streams as the
     * source rewards, if the missing bytes fit in the room that pinned and loading blocks
     * leave. Returns whether it does; a file that does not fit is left to readahead, since
     * loading it whole would evict its own first blocks.
     */
    public boolean loadWhole(FileVersion file) {
        long blocks = layout.blockCount(file.size());
        Reclamation reclamation;
        boolean loading;
        lock.lock();
        try {
            if (closed || blocks == 0) {
                return false;
            }
            CachedVersion version = versions.live(file);
            if (version.load != null && version.load.whole) {
                return true;
            }
            long missing = (blocks - version.presentBlocks) * (long) layout.blockSize();
            reclamation = reclaimer.start();
            loading = missing <= ledger.capacityBytes() - ledger.unevictableBytes() - streams.pendingWholeBytes();
            if (loading) {
                FileLoad load = streams.loadOf(version);
                load.whole = true;
                load.want(0, blocks);
                streams.wanted(load, reclamation);
            } else {
                reclaimer.closeIfUnused(version, reclamation);
            }
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
        return loading;
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
            version = file.size() == 0 ? versions.live(file) : versions.find(file);
            if (version == null || !version.fullyPresent()) {
                return Optional.empty();
            }
            version.filePins++;
            version.blocks.forEach(pins::pin);
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
            reclamation = reclaimer.start();
            for (CachedVersion version : versions.detachPath(path, keep)) {
                reclamation.unlinks.add(version);
                if (version.load != null) {
                    streams.cancel(version.load, new StaleVersionException(version.file, "it changed in the source"));
                    streams.retireIfIdle(version.load, reclamation);
                }
                version.blocks.forEach(block -> {
                    if (block.state == State.PRESENT && block.pins == 0) {
                        reclaimer.drop(block, reclamation);
                    }
                });
                reclaimer.closeIfUnused(version, reclamation);
            }
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
    }

    /**
     * The blocks of {@code file} held in the cache now (present and cached), by index: what this
     * instance can serve its peers. Empty if it holds none.
     */
    public BitSet heldBlocks(FileVersion file) {
        BitSet held = new BitSet();
        lock.lock();
        try {
            CachedVersion version = versions.find(file);
            if (version != null && version.presentBlocks > 0) {
                version.blocks.forEach(block -> {
                    if (block.state == State.PRESENT && block.cached) {
                        held.set(Math.toIntExact(block.index));
                    }
                });
            }
        } finally {
            lock.unlock();
        }
        return held;
    }

    /** The versions of which the cache holds at least one block now. */
    public List<FileVersion> heldVersions() {
        List<FileVersion> held = new ArrayList<>();
        lock.lock();
        try {
            for (CachedVersion version : versions.liveVersions()) {
                if (version.presentBlocks > 0) {
                    held.add(version.file);
                }
            }
        } finally {
            lock.unlock();
        }
        return held;
    }

    /** True if every block of {@code file} is present (always for a file of size 0). */
    public boolean isFullyCached(FileVersion file) {
        if (file.size() == 0) {
            return true;
        }
        lock.lock();
        try {
            CachedVersion version = versions.find(file);
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
            for (CachedVersion version : versions.liveVersions()) {
                filesCached += version.presentBlocks > 0 ? 1 : 0;
                fullyCachedFiles += version.blockCount > 0 && version.fullyPresent() ? 1 : 0;
            }
            return new CacheStats(settings.capacityBytes(), ledger.usedBytes(), versions.presentBlocks, filesCached,
                    fullyCachedFiles, counters.snapshot());
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
     * Stops the load streams, fails every reader waiting for a load, waits a little for loads in
     * flight to end (abandoning those that do not), and frees all memory and file descriptors but
     * those an abandoned load may still write to. Leases and pinned files still open become
     * invalid: their memory is gone. In a store directory, the files of versions with blocks
     * present stay, for the next cache to {@link #adopt}: their pages stay in the tmpfs.
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
            // readers waiting for loads or releases fail now rather than when the source answers
            IOException closing = new IOException("the cache is closing");
            for (CachedVersion version : versions.all()) {
                version.blocks.forEach(block -> {
                    if (block.state != State.PRESENT) {
                        block.settle(closing);
                    }
                });
            }
        } finally {
            lock.unlock();
        }
        Set<CachedVersion> stuck = new HashSet<>();
        Set<CachedVersion> kept = new HashSet<>();
        List<CachedVersion> all;
        boolean interrupted;
        lock.lock();
        try {
            interrupted = work.awaitAtMost(streams.abandonedInFlight, System.nanoTime() + CLOSE_GRACE_NANOS);
            streams.abandonBusy();
            all = versions.clear();
            for (CachedVersion version : all) {
                if (!version.detached && version.presentBlocks > 0) {
                    kept.add(version); // in a store directory, for the next cache to adopt
                }
                version.blocks.forEach(block -> {
                    if (block.abandoned) {
                        stuck.add(version); // a stuck thread may still write into its memory
                    }
                });
            }
            ledger.freed(ledger.usedBytes());
            overflow.freed(overflow.usedBytes());
        } finally {
            lock.unlock();
        }
        for (CachedVersion version : all) {
            if (!stuck.contains(version)) {
                version.close(kept.contains(version));
            }
        }
        populator.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- Leases and file pins --------------------------------------------------------------

    void unpin(Lease lease) {
        Reclamation reclamation;
        lock.lock();
        try {
            if (lease.closed || closed) {
                return;
            }
            lease.closed = true;
            reclamation = pins.unpin(lease.block, null);
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
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
            reclamation = reclaimer.start();
            // a fully present version holds only pinned cached blocks, so unpinning them only
            // moves them to the LRU list or (if dropped) to the reclamation: the table stays
            version.blocks.forEach(block -> pins.unpin(block, reclamation));
            reclaimer.closeIfUnused(version, reclamation);
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the block cache is closed");
        }
    }

    // ---- For tests -------------------------------------------------------------------------

    /**
     * Checks the bookkeeping against itself and against the pages the memory files really
     * hold. The exact checks need a quiet cache (no load or reclamation in flight).
     *
     * @throws IllegalStateException naming the first broken invariant
     */
    void verifyInvariants() throws IOException {
        lock.lock();
        try {
            new CacheInvariants(settings, versions, ledger, overflow, streams).verify(work.count() == 0 && !closed);
        } finally {
            lock.unlock();
        }
    }

    /** True when no block is wanted, queued, loading or being given back. */
    boolean isIdle() {
        lock.lock();
        try {
            if (work.count() > 0) {
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
            version = versions.find(file);
        } finally {
            lock.unlock();
        }
        MemoryFile memory = version == null ? null : version.memoryIfCreated();
        return memory == null ? 0 : memory.allocatedBytes();
    }
}
