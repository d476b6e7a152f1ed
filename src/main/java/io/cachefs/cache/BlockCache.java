package io.cachefs.cache;

import io.cachefs.cache.Block.State;
import io.cachefs.source.FileVersion;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A cache of fixed-size file blocks held off the Java heap in memory-backed files, with a hard
 * capacity, least-recently-used eviction, pinning and singleflight loads.
 *
 * <h2>Memory</h2>
 * Each file version's blocks live in one sparse {@link MemoryFile} (a memfd, or a file in a
 * tmpfs directory) as long as the source file and mapped once; a block sits at its source
 * offset ({@link BlockLayout}). A loader writes straight into the mapping, so a loaded block
 * is cached without a copy, and a fully cached file can be handed to the kernel as it is
 * (passthrough). Evicting a block punches its hole, which gives its pages back; a version with
 * no blocks and no pins has its file closed. The Java heap holds only per-block bookkeeping
 * (a {@link Block}, about a hundred bytes: 5,000 of them for 20 GiB of 4 MiB blocks).
 *
 * <h2>Capacity</h2>
 * {@code usedBytes} counts each cached block by the whole pages it takes (a short last block
 * of a file counts its length rounded up to a page, not a full block), from the moment its
 * load reserves room until its hole has been punched, so that at every instant
 * <em>pages really held &le; usedBytes &le; capacity</em>. A load first reserves its pages,
 * evicting least-recently-used unpinned blocks if needed; the victims' bytes pass to the new
 * block, whose loader writes only after it has punched them (so the pages it fills were given
 * back first). When pinned and loading blocks leave no room, a demand load goes to a temporary
 * off-heap buffer outside the capacity, freed with its last lease ({@code uncachedBytes} in the
 * stats), and a prefetch is skipped: readahead never displaces anything it cannot.
 *
 * <h2>Concurrency</h2>
 * One lock guards the version map, the block tables, the LRU list and the counters. It is held
 * for bookkeeping only, never across a load, a punch, an mmap or a close: a hit is a map
 * lookup, a table probe, a pin and one {@link Lease} allocation. Anything slow is claimed under
 * the lock (a block in state LOADING or RELEASING keeps every other thread out of its range),
 * done outside it, and finished under it again. Such work is counted in {@code workInFlight},
 * and {@link #close} waits for it before it unmaps and closes what the work uses.
 *
 * <p>Singleflight: a block has one entry. Whoever finds it LOADING pins it and waits; the
 * load's end leaves that pin in place, so no waiter can lose the block to eviction between the
 * load and its read. A failed load wakes its waiters with the failure and is then forgotten,
 * so the next acquire tries again.
 *
 * <p>A demand load runs in the acquiring thread: it would wait anyway, and it must not queue
 * behind readahead in the loader pool. A prefetch still queued is taken over by the first
 * acquire of its block, so a reader never waits for the queue.
 *
 * <h2>Eviction</h2>
 * LRU over unpinned present blocks ({@link AccessOrderList}). Pinning takes a block out of the
 * list and the last unpin puts it back as the most recently used, so for reads, which unpin
 * right after copying, the order is the order of last use. Pinned blocks are never in the
 * list, so eviction never looks at them.
 */
public final class BlockCache implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(BlockCache.class.getName());

    private final CacheSettings settings;
    private final BlockLayout layout;
    private final BlockLoader loader;
    /** Prefetch loads only; see the class comment for why demand loads do not use it. */
    private final ExecutorService loaderPool;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when {@link #workInFlight} drops to zero. */
    private final Condition workDone = lock.newCondition();

    // Everything below is guarded by lock.
    /** The live version of each file version seen: where acquires look. */
    private final Map<FileVersion, CachedVersion> versions = new HashMap<>();
    /** Detached versions still pinned or with blocks in flight, so that close() frees them. */
    private final Set<CachedVersion> detachedInUse = new HashSet<>();
    private final AccessOrderList accessOrder = new AccessOrderList();
    private long usedBytes;
    private long presentBlocks;
    /** Loads and reclamations between their claim and their end. */
    private int workInFlight;
    private boolean closed;
    private long hits;
    private long misses;
    private long evictions;
    private long loadedBytes;
    private long uncachedBytes;
    private long failedLoads;

    /**
     * @throws IllegalArgumentException if the store directory is missing or not on tmpfs
     */
    public BlockCache(CacheSettings settings, BlockLoader loader) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.loader = Objects.requireNonNull(loader, "loader");
        this.layout = settings.layout();
        MemoryFile.checkStore(settings.storeDir());
        this.loaderPool = Executors.newFixedThreadPool(settings.loaderThreads(),
                Thread.ofPlatform().name("cachefs-loader-", 0).daemon(true).factory());
    }

    public BlockLayout layout() {
        return layout;
    }

    /**
     * Returns block {@code index} of {@code file}, pinned until the lease is closed, loading it
     * on a miss. Concurrent acquires of a missing block share one load. Blocks until the block
     * is there.
     *
     * @throws IOException if the load failed (nothing is cached; the next acquire retries)
     * @throws InterruptedIOException if interrupted while waiting for another thread's load
     * @throws IndexOutOfBoundsException if the file has no such block
     * @throws IllegalStateException if the cache is closed
     */
    public BlockLease acquire(FileVersion file, long index) throws IOException {
        int length = layout.length(file, index);
        boolean counted = false;
        while (true) {
            Miss miss;
            lock.lock();
            try {
                ensureOpen();
                CachedVersion version = liveVersion(file);
                Block block = version.blocks.get(index);
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
                miss = miss(version, block, index, length);
            } finally {
                lock.unlock();
            }
            switch (miss) {
                case LoadHere(Block block, Reclamation victims) -> {
                    Throwable failure = runLoad(block, victims);
                    if (failure != null) {
                        throw rethrow(failure);
                    }
                    return new Lease(this, block);
                }
                case JoinLoad(Block block, CompletableFuture<Void> loaded) -> {
                    return awaitLoad(block, loaded);
                }
                case AwaitRelease(CompletableFuture<Void> released) -> released.join();
            }
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

    /** What an acquire that did not find its block present does next. */
    private sealed interface Miss {}

    /** Load the block in this thread, after punching the victims whose room it takes. */
    private record LoadHere(Block block, Reclamation victims) implements Miss {}

    /** Wait for the load in flight; it leaves the block pinned for us. */
    private record JoinLoad(Block block, CompletableFuture<Void> loaded) implements Miss {}

    /** The block is being punched (evicted, dropped or failed): wait, then look again. */
    private record AwaitRelease(CompletableFuture<Void> released) implements Miss {}

    /** Decides what to do about a block that is missing or not present; under the lock. */
    private Miss miss(CachedVersion version, Block block, long index, int length) {
        if (block == null || block.state == State.QUEUED) {
            if (block == null) {
                block = addBlock(version, index, length, State.QUEUED);
            }
            return new LoadHere(block, claimForDemand(block));
        }
        if (block.state == State.LOADING) {
            block.pins++; // the load's end leaves this pin to us
            return new JoinLoad(block, block.settled());
        }
        return new AwaitRelease(block.settled());
    }

    /**
     * Starts loading blocks {@code [first, first + count)} of {@code file} in the background,
     * up to {@code loaderThreads} at a time, skipping blocks present or in flight and indexes
     * past the end of the file. Returns at once. Best effort: a block that would need pinned
     * blocks' room is skipped, and failures are only counted.
     */
    public void prefetch(FileVersion file, long first, int count) {
        long from = Math.max(0, first);
        long to = Math.min(layout.blockCount(file.size()), from + Math.max(0, count));
        List<Block> queued = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            CachedVersion version = versions.get(file);
            for (long index = from; index < to; index++) {
                if (version == null) {
                    version = liveVersion(file);
                } else if (version.blocks.get(index) != null) {
                    continue;
                }
                queued.add(addBlock(version, index, layout.length(file, index), State.QUEUED));
            }
        } finally {
            lock.unlock();
        }
        try {
            for (Block block : queued) {
                loaderPool.execute(() -> prefetchLoad(block));
            }
        } catch (RejectedExecutionException e) {
            // closing: close() frees the queued blocks
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
     * the source file changed or went away. Blocks pinned now are given back when unpinned;
     * blocks loading now are given back when loaded and unpinned.
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
                List<Block> queued = new ArrayList<>();
                version.blocks.forEach(block -> {
                    if (block.state == State.QUEUED) {
                        queued.add(block);
                    } else if (block.state == State.PRESENT && block.pins == 0) {
                        drop(block, reclamation);
                    }
                });
                queued.forEach(version.blocks::remove);
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
            return new CacheStats(settings.capacityBytes(), usedBytes, presentBlocks, evictions,
                    hits, misses, loadedBytes, uncachedBytes, failedLoads, filesCached,
                    fullyCachedFiles);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the loader threads, waits for loads in flight (including those in acquiring
     * threads) to end, and frees all memory and file descriptors. Leases and pinned files still
     * open become invalid: their memory is gone.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            lock.unlock();
        }
        loaderPool.shutdownNow(); // interrupts prefetch loads: nobody waits for most of them
        boolean interrupted = false;
        while (true) {
            try {
                if (loaderPool.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
                LOG.log(System.Logger.Level.WARNING, "waiting for block loaders to return");
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        List<CachedVersion> all;
        List<Arena> buffers = new ArrayList<>();
        lock.lock();
        try {
            while (workInFlight > 0) {
                workDone.awaitUninterruptibly();
            }
            all = new ArrayList<>(versions.values());
            all.addAll(detachedInUse);
            versions.clear();
            detachedInUse.clear();
            for (CachedVersion version : all) {
                version.blocks.forEach(block -> {
                    if (block.buffer != null) {
                        buffers.add(block.buffer);
                    }
                });
            }
            usedBytes = 0;
            presentBlocks = 0;
        } finally {
            lock.unlock();
        }
        buffers.forEach(Arena::close);
        all.forEach(CachedVersion::close);
        if (interrupted) {
            Thread.currentThread().interrupt();
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
            require(usedBytes >= 0 && usedBytes <= settings.capacityBytes(),
                    "used bytes " + usedBytes + " outside [0, capacity]");
            if (workInFlight > 0 || closed) {
                return;
            }
            long reserved = 0;
            long present = 0;
            long allocated = 0;
            int inAccessOrder = 0;
            List<CachedVersion> all = new ArrayList<>(versions.values());
            all.addAll(detachedInUse);
            for (CachedVersion version : all) {
                require(!version.unused() && !version.closing, "unused version kept: " + version.file);
                require(version.detached == detachedInUse.contains(version),
                        "detached flag disagrees with the detached set: " + version.file);
                List<Block> blocks = new ArrayList<>();
                version.blocks.forEach(blocks::add);
                require(blocks.size() == version.blocks.size(), "table size of " + version.file);
                long versionPresent = 0;
                for (Block block : blocks) {
                    require(version.blocks.get(block.index) == block, "unreachable " + block);
                    require(block.state == State.QUEUED || block.state == State.PRESENT,
                            "block in flight in a quiet cache: " + block);
                    require(block.cached || block.pins > 0, "unpinned uncached block " + block);
                    boolean evictable = block.state == State.PRESENT && block.cached
                            && block.pins == 0;
                    require(block.inAccessOrder == evictable, "LRU membership of " + block);
                    require(!(evictable && version.detached), "dropped block kept: " + block);
                    if (block.state == State.PRESENT && block.cached) {
                        reserved += block.memoryBytes;
                        versionPresent++;
                    }
                    inAccessOrder += block.inAccessOrder ? 1 : 0;
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
            require(usedBytes == reserved, "used bytes " + usedBytes + " but blocks hold " + reserved);
            require(presentBlocks == present, "present blocks " + presentBlocks + " but " + present);
            require(accessOrder.size() == inAccessOrder, "LRU list size " + accessOrder.size());
            require(allocated <= usedBytes,
                    "memory files hold " + allocated + " bytes but blocks only " + usedBytes);
        } finally {
            lock.unlock();
        }
    }

    /** True when no load, prefetch or reclamation is pending or in flight. */
    boolean isIdle() {
        lock.lock();
        try {
            if (workInFlight > 0) {
                return false;
            }
            boolean[] queued = {false};
            versions.values().forEach(version -> version.blocks.forEach(
                    block -> queued[0] |= block.state == State.QUEUED));
            return !queued[0];
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
        if (block.pins++ == 0 && block.inAccessOrder) {
            accessOrder.remove(block);
        }
    }

    /** Removes one pin; returns {@code reclamation}, or a new one if memory must be freed. */
    private Reclamation unpinBlock(Block block, Reclamation reclamation) {
        if (--block.pins == 0 && block.state == State.PRESENT) {
            return settleUnpinned(block, reclamation);
        }
        return reclamation;
    }

    /** Gives up a pin taken to wait for a load, whatever became of the load. */
    private void abandon(Block block) {
        Reclamation reclamation = null;
        lock.lock();
        try {
            switch (block.state) {
                case LOADING -> block.pins--;
                case PRESENT -> reclamation = unpinBlock(block, null);
                default -> { } // the load failed: its pins went with it
            }
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
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
            accessOrder.addNewest(block);
        }
        return reclamation;
    }

    // ---- Loads -----------------------------------------------------------------------------

    /** Claims a missing or queued block for a load in the acquiring thread, which pins it. */
    private Reclamation claimForDemand(Block block) {
        block.state = State.LOADING;
        block.pins++;
        workInFlight++;
        if (canReserve(block.memoryBytes)) {
            return reserve(block.memoryBytes);
        }
        block.cached = false;
        return null;
    }

    /** A loader thread's part of {@link #prefetch}. */
    private void prefetchLoad(Block block) {
        Reclamation victims = null;
        Reclamation skipped = null;
        lock.lock();
        try {
            // The block was queued under an earlier hold of the lock; since then:
            //   1. an acquire may have taken it over (state LOADING or later), or
            //   2. dropPath may have removed it (state still QUEUED, but no longer in the
            //      table; a new block of the same index may even be there),
            //   3. or close() may have begun.
            // In each case the work is someone else's, or nobody's.
            if (closed || block.state != State.QUEUED
                    || block.version.blocks.get(block.index) != block) {
                return;
            }
            if (canReserve(block.memoryBytes)) {
                block.state = State.LOADING;
                workInFlight++;
                victims = reserve(block.memoryBytes);
            } else {
                block.version.blocks.remove(block);
                skipped = newReclamation();
                closeIfUnused(block.version, skipped);
            }
        } finally {
            lock.unlock();
        }
        if (skipped != null) {
            reclaim(skipped);
            return;
        }
        Throwable failure = runLoad(block, victims);
        if (failure != null) {
            LOG.log(System.Logger.Level.DEBUG, () -> "prefetch of " + block + " failed", failure);
        }
    }

    /**
     * Runs a claimed load outside the lock: punches the victims whose room it takes, loads
     * into the memory file (or a temporary buffer) and publishes the outcome.
     *
     * @return the failure, or null
     */
    private Throwable runLoad(Block block, Reclamation victims) {
        Throwable failure = null;
        try {
            reclaim(victims);
            MemorySegment dst;
            if (block.cached) {
                dst = block.version.memory().slice(block.offset, block.length);
                Libc.populate(dst);
            } else {
                block.buffer = Arena.ofShared();
                dst = block.buffer.allocate(block.length, BlockLayout.PAGE_SIZE);
            }
            block.origin = loader.load(block.version.file, block.offset, dst);
            block.bytes = dst.asReadOnly();
        } catch (Throwable t) {
            failure = t;
        }
        finishLoad(block, failure);
        return failure;
    }

    private void finishLoad(Block block, Throwable failure) {
        Reclamation reclamation = null;
        lock.lock();
        try {
            if (failure == null) {
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
                if (block.pins == 0) {
                    reclamation = settleUnpinned(block, null);
                }
            } else {
                failedLoads++;
                block.settle(failure);
                block.pins = 0; // the waiters throw and do not unpin
                reclamation = newReclamation();
                if (block.cached) {
                    // the loader may have written part of the range: punch it before the
                    // room is given back or the block forgotten
                    block.state = State.RELEASING;
                    reclamation.holes.add(block);
                    reclamation.bytesFreedByHoles += block.memoryBytes;
                } else {
                    block.state = State.RELEASING;
                    block.version.blocks.remove(block);
                    if (block.buffer != null) {
                        reclamation.buffers.add(block.buffer);
                    }
                    closeIfUnused(block.version, reclamation);
                }
            }
            endWork();
        } finally {
            lock.unlock();
        }
        reclaim(reclamation);
    }

    private BlockLease awaitLoad(Block block, CompletableFuture<Void> settled)
            throws IOException {
        try {
            settled.get();
            return new Lease(this, block);
        } catch (ExecutionException e) {
            throw new IOException("loading block " + block.index + " of "
                    + block.version.file.path() + " failed", e.getCause());
        } catch (InterruptedException e) {
            abandon(block);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for block " + block.index
                    + " of " + block.version.file.path());
        }
    }

    // ---- Room and reclamation --------------------------------------------------------------

    /** Whether {@code bytes} fit once every unpinned present block is evicted. */
    private boolean canReserve(long bytes) {
        return usedBytes - accessOrder.bytes() + bytes <= settings.capacityBytes();
    }

    /**
     * Reserves {@code bytes} (which {@link #canReserve} allows), evicting least recently used
     * blocks as needed. Returns the victims, to punch before the reserved bytes are written, or
     * null if no eviction was needed.
     */
    private Reclamation reserve(long bytes) {
        Reclamation victims = null;
        long freed = 0;
        while (usedBytes - freed + bytes > settings.capacityBytes()) {
            Block victim = accessOrder.oldest();
            victims = orNew(victims);
            release(victim, victims);
            evictions++;
            freed += victim.memoryBytes;
        }
        // The victims' pages are held until punched, so the used bytes may not fall yet: take
        // the room they leave now, and give back any surplus once the punches are done.
        usedBytes = Math.max(usedBytes, usedBytes - freed + bytes);
        if (freed > bytes) {
            victims.bytesFreedByHoles += freed - bytes;
        }
        return victims;
    }

    /** Gives back an unpinned present block of a dropped version. */
    private void drop(Block block, Reclamation reclamation) {
        release(block, reclamation);
        reclamation.bytesFreedByHoles += block.memoryBytes;
    }

    private void release(Block block, Reclamation reclamation) {
        if (block.inAccessOrder) {
            accessOrder.remove(block);
        }
        block.state = State.RELEASING;
        presentBlocks--;
        block.version.presentBlocks--;
        reclamation.holes.add(block);
    }

    /** Detaches {@code version} and schedules its file's closing if nothing needs it. */
    private void closeIfUnused(CachedVersion version, Reclamation reclamation) {
        if (!version.unused() || version.closing) {
            return;
        }
        version.closing = true;
        if (!version.detached) {
            versions.remove(version.file);
            version.detached = true;
        }
        detachedInUse.remove(version);
        reclamation.files.add(version);
    }

    private Reclamation newReclamation() {
        workInFlight++;
        return new Reclamation();
    }

    private Reclamation orNew(Reclamation reclamation) {
        return reclamation != null ? reclamation : newReclamation();
    }

    /** Gives back the memory gathered in {@code reclamation}; outside the lock. */
    private void reclaim(Reclamation reclamation) {
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
                    usedBytes -= reclamation.bytesFreedByHoles;
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
        if (--workInFlight == 0) {
            workDone.signalAll();
        }
    }

    // ---- Bookkeeping -----------------------------------------------------------------------

    private CachedVersion liveVersion(FileVersion file) {
        CachedVersion version = versions.get(file);
        if (version == null) {
            version = new CachedVersion(
                    file, layout.blockCount(file.size()), settings.storeDir());
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

    private static RuntimeException rethrow(Throwable failure) throws IOException {
        if (failure instanceof IOException e) {
            throw e;
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        throw new IOException(failure);
    }
}
