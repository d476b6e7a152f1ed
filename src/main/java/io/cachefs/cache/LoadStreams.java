package io.cachefs.cache;

import io.cachefs.cache.FileLoad.LoadStream;
import io.cachefs.cache.Reclaimer.Reclamation;
import io.cachefs.source.StaleVersionException;
import io.cachefs.stats.Counters;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block cache's miss path: the {@link FileLoad}s of the versions being loaded and the
 * {@link LoadStream}s that load them, each on a thread of its own; the {@link StreamTuner} that
 * decides how many; and the watchdog that gives up on a load the source does not answer.
 *
 * <p>A stream's thread loops: {@link BlockLoads#claim claim} the next blocks its file load
 * gives it (reserving their room), {@link BlockLoads#read read} them through the stream's one
 * {@link BlockReader} outside the lock, {@link BlockLoads#publish publish} them. Reading runs
 * from the source, it holds up to {@link #AHEAD_CLAIMS} claims beyond the one it reads, whose
 * pages the {@link PagePopulator} readies meanwhile. With nothing to do it lingers a
 * moment, keeping its source handle for the next readahead or miss, then ends.
 *
 * <p>Guarded by the cache's lock (it is the same lock): every method but the threads' own loops
 * expects it held. The threads are platform threads, not virtual ones: a source read is a native
 * call that would pin a virtual thread's carrier for as long as the source takes.
 */
final class LoadStreams {
    private static final Logger LOG = LoggerFactory.getLogger(LoadStreams.class);

    /** A stream out of work keeps its source handle this long, for the next readahead or miss. */
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** How often the watchdog looks for loads that hang. */
    private static final long WATCHDOG_PERIOD_MILLIS = 500;
    /** A split must leave a new stream this much runway: an object-store GET needs a while to reach speed. */
    private static final long MIN_SPLIT_BYTES = 32L << 20;
    /**
     * Runs a stream claims beyond the one it reads, so that their pages are populated before
     * their reads: two, as s3fs hands over 50 MiB at once, about three runs that the stream then
     * copies back to back.
     */
    static final int AHEAD_CLAIMS = 2;
    /** Bounds the threads and source handles of all loads together. */
    static final int MAX_STREAMS = 64;

    private final ReentrantLock lock;
    private final BlockLoads blockLoads;
    private final Reclaimer reclaimer;
    private final InFlightWork work;
    private final BlockLoader loader;
    private final int blockSize;
    private final Duration sourceTimeout;
    private final ExecutorService threads;
    private final ScheduledExecutorService watchdog;
    private final StreamTuner tuner;
    /** Every load with something wanted or a stream running. */
    final Set<FileLoad> loads = new HashSet<>();
    /** Streams whose threads count against {@link #MAX_STREAMS}: all but the abandoned ones. */
    private int running;
    private long bytesInFlight;
    /** Loads the watchdog abandoned whose threads have not returned: close() does not wait for them. */
    int abandonedInFlight;
    private final Counters<CacheCounter> counters;
    private boolean closed;

    LoadStreams(ReentrantLock lock, BlockLoads blockLoads, Reclaimer reclaimer, InFlightWork work, BlockLoader loader,
                CacheSettings settings, String sourceName, Counters<CacheCounter> counters) {
        this.lock = lock;
        this.counters = counters;
        this.blockLoads = blockLoads;
        this.reclaimer = reclaimer;
        this.work = work;
        this.loader = loader;
        this.blockSize = settings.blockSize();
        this.sourceTimeout = settings.sourceTimeout();
        this.tuner = new StreamTuner(blockLoads.landingBytes(), sourceName, loader.firstStreams());
        this.threads = Executors.newCachedThreadPool(
                Thread.ofPlatform().name("cachefs-stream-", 0).daemon(true).factory());
        this.watchdog = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("cachefs-watchdog").daemon(true).factory());
        watchdog.scheduleWithFixedDelay(this::abandonHungLoads, WATCHDOG_PERIOD_MILLIS, WATCHDOG_PERIOD_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    // ---- What the cache asks, under the lock -----------------------------------------------

    /** The version's load, created on first need. */
    FileLoad loadOf(CachedVersion version) {
        if (version.load == null) {
            int minSplit = (int) Math.max(1, MIN_SPLIT_BYTES / blockSize);
            version.load = new FileLoad(version, lock.newCondition(), minSplit, System.nanoTime(),
                    loader.order(version.file));
            loads.add(version.load);
        }
        return version.load;
    }

    /** A reader now waits for block {@code index}: makes sure a stream will get to it soon. */
    void demand(FileLoad load, long index) {
        if (load.nearlyReached(index)) {
            return;
        }
        if (lingering(load)) {
            load.workArrived.signalAll(); // an idle stream takes the oldest demand first
            return;
        }
        startStreams(load);
    }

    /** Blocks were wanted in {@code load}: wakes its idle streams or starts new ones. */
    void wanted(FileLoad load, Reclamation reclamation) {
        if (load.pending.isEmpty()) {
            retireIfIdle(load, reclamation);
        } else if (lingering(load)) {
            load.workArrived.signalAll();
        } else {
            startStreams(load);
        }
    }

    /** Overflow room was freed: loads whose readers waited for it go on. */
    void retryStarved() {
        if (closed) {
            return;
        }
        for (FileLoad load : loads) {
            if (load.unstarve()) {
                if (lingering(load)) {
                    load.workArrived.signalAll();
                } else {
                    startStreams(load);
                }
            }
        }
    }

    /** Bytes that whole-file loads still mean to load: room they will take. */
    long pendingWholeBytes() {
        long blocks = 0;
        for (FileLoad load : loads) {
            blocks += load.whole ? load.pendingBlocks() : 0;
        }
        return blocks * blockSize;
    }

    /** Stops a load: its streams end after their current block, readers waiting for its queued blocks fail. */
    void cancel(FileLoad load, IOException why) {
        load.pending.clear();
        load.demanded.clear();
        load.starved.clear();
        load.whole = false;
        for (LoadStream stream : load.streams) {
            stream.stopping = true;
        }
        List<Block> queued = new ArrayList<>();
        load.version.blocks.forEach(block -> {
            if (block.state == Block.State.QUEUED) {
                queued.add(block);
            }
        });
        for (Block block : queued) {
            load.version.blocks.remove(block);
            block.settle(why);
            block.pins = 0;
        }
        load.workArrived.signalAll();
    }

    /** Forgets a load with nothing wanted and no stream. */
    void retireIfIdle(FileLoad load, Reclamation reclamation) {
        if (load.idle() && load.version.load == load) {
            detach(load);
            reclaimer.closeIfUnused(load.version, reclamation);
        }
    }

    /** The version is closing: its lingering streams end, new work for the file goes to a new load. */
    void detach(FileLoad load) {
        for (LoadStream stream : load.streams) {
            stream.stopping = true;
        }
        load.workArrived.signalAll();
        loads.remove(load);
        load.version.load = null;
    }

    /**
     * {@code stream} is done with its current blocks; {@code loaded} whether the read succeeded.
     * Returns whether they had been abandoned meanwhile.
     */
    private boolean finished(LoadStream stream, BlockLoads.Claim claim, boolean loaded, boolean fromSource) {
        boolean abandoned = false;
        long bytes = 0;
        for (Block block : claim.blocks()) {
            bytesInFlight -= block.length;
            bytes += block.length;
            abandoned |= block.abandoned;
        }
        stream.current.removeAll(claim.blocks());
        if (abandoned) {
            if (stream.current.isEmpty()) {
                abandonedInFlight--; // the stream's last claim is back
            }
            return true;
        }
        FileLoad load = stream.load;
        if (loaded) {
            load.lastProgressNanos = System.nanoTime();
            if (load.whole && fromSource) { // the tuner learns the source; peers' speed would mislead it
                tune(tuner.loaded(stream, bytes, wholeStreams(), load.lastProgressNanos));
            }
        }
        return false;
    }

    /** Whether {@code version}'s load has delivered nothing since the source timeout before now (nor since {@code since}). */
    boolean silentSince(CachedVersion version, long since) {
        FileLoad load = version.load;
        long lastSign = load == null ? since : Math.max(since, load.lastProgressNanos);
        if (load != null) {
            for (LoadStream stream : load.streams) {
                long busy = stream.busySince; // a load that is still receiving (LoadProgress) is not silent
                if (busy != 0 && busy - lastSign > 0) {
                    lastSign = busy;
                }
            }
        }
        return System.nanoTime() - lastSign > sourceTimeout.toNanos();
    }

    LoadStats stats() {
        return new LoadStats(running, bytesInFlight, tuner.target(), tuner.settled(), tuner.lastRate());
    }

    long bytesInFlight() {
        return bytesInFlight;
    }

    /** Stops every stream: idle ones at once, busy ones after their current block. */
    void close() {
        closed = true;
        for (FileLoad load : loads) {
            load.workArrived.signalAll();
        }
        watchdog.shutdownNow();
        threads.shutdownNow(); // interrupts throttle and peer waits; a source read may not notice
    }

    /** Gives up on every stream still loading (close() waited long enough). */
    void abandonBusy() {
        for (FileLoad load : loads) {
            for (LoadStream stream : List.copyOf(load.streams)) {
                if (!stream.current.isEmpty()) {
                    LOG.warn("closing while {} is still loading block {}: leaving it behind",
                            load.version.file.path(), stream.current.getFirst().index);
                    abandon(stream);
                }
            }
        }
    }

    // ---- Streams ---------------------------------------------------------------------------

    private static boolean lingering(FileLoad load) {
        for (LoadStream stream : load.streams) {
            if (stream.current.isEmpty() && stream.next >= stream.end && !stream.stopping) {
                return true;
            }
        }
        return false;
    }

    /** Starts streams for {@code load} while it may run more and has work a new stream should take. */
    private void startStreams(FileLoad load) {
        while (!closed && running < MAX_STREAMS && activeStreams(load) < allowedStreams(load)) {
            LoadStream stream = new LoadStream(load);
            // a stream of an ordered load needs no run: the order gives it its blocks
            if (!(load.assign(stream) || load.orderStreams() > 0) || !start(stream)) {
                return;
            }
        }
    }

    private boolean start(LoadStream stream) {
        try {
            threads.execute(() -> run(stream));
        } catch (RejectedExecutionException closing) {
            return false;
        }
        stream.load.streams.add(stream);
        running++;
        return true;
    }

    /** Streams of {@code load} not asked to stop. */
    private static int activeStreams(FileLoad load) {
        int active = 0;
        for (LoadStream stream : load.streams) {
            active += stream.stopping ? 0 : 1;
        }
        return active;
    }

    /**
     * The tuner's streams per file, shared by the whole-file loads running at once; or, while the
     * loader's order picks the blocks (peers), as many as it asks for.
     */
    private int allowedStreams(FileLoad load) {
        int ordered = load.orderStreams();
        if (ordered > 0) {
            return ordered;
        }
        if (!load.whole) {
            return tuner.target();
        }
        int wholeLoads = 0;
        for (FileLoad other : loads) {
            // a load that is done and only keeps its streams lingering shares nothing: the next
            // model opened within the linger would otherwise start with half the streams
            wholeLoads += other.whole && (other == load || !other.quiet()) ? 1 : 0;
        }
        return Math.max(1, tuner.target() / Math.max(1, wholeLoads));
    }

    /** A stream's thread: claim a block, load it, publish it, until there is nothing left for it. */
    private void run(LoadStream stream) {
        ScopedValue.where(LoadProgress.STREAM, stream).run(() -> runBound(stream));
    }

    private void runBound(LoadStream stream) {
        ArrayDeque<BlockLoads.Prepared> claimed = new ArrayDeque<>(1 + AHEAD_CLAIMS);
        try (BlockReader reader = loader.open(stream.load.version.file)) {
            while (true) {
                if (claimed.isEmpty()) {
                    BlockLoads.Claim claim = next(stream);
                    if (claim == null) {
                        break;
                    }
                    claimed.add(blockLoads.prepare(claim, true));
                }
                // the next runs are claimed now, so that their pages are populated while this
                // one waits on the source: a mount such as s3fs hands over a whole batch at once,
                // and its next fetch waits until the stream has copied it
                BlockLoads.Claim ahead;
                while (claimed.size() <= AHEAD_CLAIMS && (ahead = nextAhead(stream)) != null) {
                    claimed.add(blockLoads.prepare(ahead, false));
                }
                BlockLoads.Prepared prepared = claimed.poll();
                if (!finish(stream, prepared.claim(), blockLoads.read(stream, reader, prepared))) {
                    break; // what it claimed ahead is given back unread
                }
            }
        } catch (RuntimeException | Error e) {
            LOG.error("a load stream of {} failed", stream.load.version.file.path(), e);
            lock.lock();
            try {
                // a bug, not a source failure: fail what waits rather than start stream after stream
                cancel(stream.load, new IOException("loading " + stream.load.version.file.path() + " failed", e));
            } finally {
                lock.unlock();
            }
        } finally {
            for (BlockLoads.Prepared unread : claimed) {
                unread.settle();
                finish(stream, unread.claim(), new IOException("the load of " + stream.load.version.file.path()
                        + " stopped before block " + unread.claim().blocks().getFirst().index));
            }
            ended(stream);
        }
    }

    /**
     * The next block for {@code stream}, claimed; null when the stream should end. Waits up to
     * {@link #LINGER_NANOS} for work when there is none.
     */
    private BlockLoads.Claim next(LoadStream stream) {
        FileLoad load = stream.load;
        long lingerUntil = 0;
        lock.lock();
        try {
            while (true) {
                if (closed || stream.stopping || stream.abandoned) {
                    return null;
                }
                long index = load.next(stream);
                if (index < 0) {
                    long now = System.nanoTime();
                    lingerUntil = lingerUntil == 0 ? now + LINGER_NANOS : lingerUntil;
                    if (lingerUntil - now <= 0) {
                        return null;
                    }
                    try {
                        load.workArrived.awaitNanos(lingerUntil - now);
                    } catch (InterruptedException e) {
                        return null; // closing
                    }
                    continue;
                }
                lingerUntil = 0;
                BlockLoads.Claim claim = blockLoads.claim(stream, index);
                if (claim != null) {
                    return inFlight(claim);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next blocks of {@code stream}'s own run, claimed ahead of its read; null, at once, when
     * there is none or no claim ahead is to be made ({@link BlockLoads#claimsAhead}, {@link #aloneInLoad}).
     */
    private BlockLoads.Claim nextAhead(LoadStream stream) {
        FileLoad load = stream.load;
        lock.lock();
        try {
            while (!(closed || stream.stopping || stream.abandoned) && blockLoads.claimsAhead() && aloneInLoad(load)) {
                long index = load.nextInRun(stream);
                if (index < 0) {
                    return null;
                }
                BlockLoads.Claim claim = blockLoads.claim(stream, index);
                if (claim != null) {
                    return inFlight(claim);
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** Counts {@code claim}'s bytes as in flight, and returns it. */
    private BlockLoads.Claim inFlight(BlockLoads.Claim claim) {
        for (Block block : claim.blocks()) {
            bytesInFlight += block.length;
        }
        return claim;
    }

    /**
     * Whether {@code load}'s stream may claim ahead: only while it is the load's one stream.
     * Several streams share a file's runs out among themselves (a stream out of work splits
     * another's run), and runs claimed ahead are out of that sharing: near the end of a file one
     * stream would load its last three runs alone while the others stand idle. And where several
     * streams share a source's rate, each has that much longer per run for its pages.
     */
    private boolean aloneInLoad(FileLoad load) {
        return activeStreams(load) == 1;
    }

    /**
     * Publishes what {@code stream} read, or fails it; the stream's next claim is its own business.
     * Returns whether the stream goes on: false once it was abandoned or the cache closes.
     */
    private boolean finish(LoadStream stream, BlockLoads.Claim claim, Throwable failure) {
        Reclamation reclamation;
        boolean goOn;
        lock.lock();
        try {
            if (finished(stream, claim, failure == null, fromSource(claim))) {
                reclamation = blockLoads.releaseAbandoned(claim);
            } else if (failure == null) {
                reclamation = blockLoads.publish(claim);
            } else {
                reclamation = blockLoads.fail(claim, failure);
                if (failure instanceof StaleVersionException stale) {
                    cancel(stream.load, stale); // every block of this version will fail the same way
                } else {
                    // a fresh stream (a fresh source handle) takes over what readers wait for,
                    // this one reads only the runs it claimed ahead (its reader opens afresh);
                    // loading ahead stops, so a broken source is not read in a loop
                    stream.stopping = true;
                    stream.load.dropUndemanded();
                    LOG.debug("loading {} failed", claim.blocks().getFirst(), failure);
                }
            }
            work.end();
            if (!closed && !stream.load.pending.isEmpty() && stream.load.orderStreams() > 0) {
                startStreams(stream.load); // the order may want more streams now that holders are known
            }
            goOn = !(stream.abandoned || closed);
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
        return goOn;
    }

    private static boolean fromSource(BlockLoads.Claim claim) {
        for (BlockOrigin origin : claim.origins()) {
            if (origin != BlockOrigin.PEER) {
                return true;
            }
        }
        return false;
    }

    /** A stream's thread is ending. */
    private void ended(LoadStream stream) {
        Reclamation reclamation;
        lock.lock();
        try {
            reclamation = reclaimer.start(); // under the lock, like every count of work in flight
            FileLoad load = stream.load;
            load.streams.remove(stream);
            if (!stream.abandoned) {
                running--; // an abandoned stream stopped counting when it was abandoned
            }
            tuner.ended(stream);
            if (!closed) {
                if (!load.pending.isEmpty()) {
                    startStreams(load); // e.g. a failed stream's readers, or a stopped stream's run
                }
                for (FileLoad starved : loads) {
                    if (starved.streams.isEmpty() && !starved.pending.isEmpty()) {
                        startStreams(starved); // it found no room under MAX_STREAMS
                    }
                }
            }
            retireIfIdle(load, reclamation);
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
    }

    /** Acts on the tuner's verdict: one stream more (split off the busiest load) or one less. */
    private void tune(int change) {
        FileLoad busiest = null;
        for (FileLoad load : loads) {
            if (load.whole && (busiest == null || load.pendingBlocks() > busiest.pendingBlocks())) {
                busiest = load;
            }
        }
        if (change > 0) {
            LoadStream stream = busiest == null || running >= MAX_STREAMS ? null : new LoadStream(busiest);
            if (stream != null && busiest.assign(stream) && start(stream)) {
                tuner.added(stream);
            } else {
                tuner.notAdded();
            }
        } else if (change < 0 && busiest != null) {
            for (int i = busiest.streams.size() - 1; i >= 0; i--) {
                LoadStream newest = busiest.streams.get(i);
                if (!newest.stopping) {
                    newest.stopping = true; // its run stays pending for the others
                    busiest.workArrived.signalAll();
                    return;
                }
            }
        }
    }

    /** Streams of whole-file loads that still load: a finished load's lingering ones say nothing of the rate. */
    private int wholeStreams() {
        int streams = 0;
        for (FileLoad load : loads) {
            streams += load.whole && !load.quiet() ? activeStreams(load) : 0;
        }
        return streams;
    }

    // ---- The watchdog ----------------------------------------------------------------------

    /** A reader gave up waiting for {@code block}: so does the stream that holds it. */
    void abandonLoading(Block block) {
        FileLoad load = block.version.load;
        if (load == null || block.state != Block.State.LOADING) {
            return;
        }
        for (LoadStream stream : List.copyOf(load.streams)) {
            if (!stream.abandoned && stream.current.contains(block)) {
                LOG.warn("{}: nothing of block {} arrived for {} s (from the source or, in a group, a peer): giving up"
                        + " on it (readers get EIO)", load.version.file.path(), block.index, sourceTimeout.toSeconds());
                abandon(stream);
                return;
            }
        }
    }

    /** Gives up on loads that have not returned within the source timeout. */
    private void abandonHungLoads() {
        long timeout = sourceTimeout.toNanos();
        lock.lock();
        try {
            long now = System.nanoTime();
            for (FileLoad load : List.copyOf(loads)) {
                for (LoadStream stream : List.copyOf(load.streams)) {
                    long since = stream.busySince;
                    if (!stream.abandoned && since != 0 && now - since > timeout && !stream.current.isEmpty()) {
                        LOG.warn("{}: nothing of block {} arrived for {} s (from the source or, in a group, a peer):"
                                        + " giving up on it (readers get EIO) and reading on with another stream",
                                load.version.file.path(), stream.current.getFirst().index, sourceTimeout.toSeconds());
                        abandon(stream);
                        if (!load.pending.isEmpty()) {
                            startStreams(load);
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.error("the load watchdog failed", e);
        } finally {
            lock.unlock();
        }
    }

    /** Gives up on a stream stuck in its loader: fails its waiters, keeps its blocks out of reach. */
    private void abandon(LoadStream stream) {
        stream.abandoned = true;
        stream.load.streams.remove(stream);
        running--; // its thread may never end; it no longer counts against the bound
        if (!stream.current.isEmpty() && !stream.current.getFirst().abandoned) {
            counters.increment(CacheCounter.ABANDONED_LOADS);
            abandonedInFlight++;
            for (Block block : stream.current) {
                block.abandoned = true;
                block.state = Block.State.RELEASING;
                block.settle(new SourceTimeoutException("nothing of block " + block.index + " of "
                        + block.version.file.path() + " arrived for " + sourceTimeout.toSeconds()
                        + " s (from the source or, in a group, a peer)"));
                block.pins = 0;
            }
        }
        stream.load.workArrived.signalAll();
    }
}
