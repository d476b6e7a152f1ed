package io.cachefs.cache;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.locks.Condition;

/**
 * The loading of one file version: which of its blocks are wanted, which of those readers wait
 * for, and the streams that load them. Guarded by the cache lock; decides only, never waits.
 *
 * <h2>Runs</h2>
 * Each stream walks a run {@code [next, end)} of the file in order, skipping blocks that are no
 * longer pending. When its run ends it takes, in this order:
 * <ol>
 *   <li>the pending blocks right after it (for a whole-file load: the next pending block ahead),
 *       so that a stream that can go on reading in order does (an object-storage mount serves an
 *       open handle read in order at full speed, and charges a new request for every jump);
 *   <li>the oldest block a reader waits for that no stream is about to reach;
 *   <li>the longest run of pending blocks that no stream covers or is about to continue into;
 *   <li>for a whole-file load, the back half of the longest run another stream still has, so
 *       that a stream the tuner adds starts far from the others (download accelerators split
 *       the same way).
 * </ol>
 * A block a reader waits for inside another stream's run, but far ahead of it, is split off for
 * a new stream when the load may run one more; otherwise the reader waits for the stream to get
 * there: the whole file is coming anyway, and jumping would cost every reader the source's speed.
 */
final class FileLoad {

    /** A block this close ahead of a stream is left to it: it will be there before a new stream could open. */
    static final int JOIN_BLOCKS = 2;

    final CachedVersion version;
    /** Lingering streams wait here for work. */
    final Condition workArrived;
    /** Blocks to load that no stream has claimed yet, inside runs or not. */
    final BitSet pending = new BitSet();
    /** Blocks readers wait for that got no room, not even overflow room: pending again once some is freed. */
    final BitSet starved = new BitSet();
    /** Pending blocks readers wait for, oldest first. */
    final List<Long> demanded = new ArrayList<>(4);
    final List<LoadStream> streams = new ArrayList<>(2);
    /** Loading the whole file (it was opened): the tuner may add streams by splitting runs. */
    boolean whole;
    /** The shortest half a split may leave, in blocks: a new stream must have room to reach speed. */
    final int minSplitBlocks;
    /** When a block of this load last arrived (or the load began): readers time out on silence, not on waiting. */
    long lastProgressNanos;
    /** The loader's order for a whole-file load (a swarm's), or null for file order. */
    final LoadOrder order;

    FileLoad(CachedVersion version, Condition workArrived, int minSplitBlocks, long now, LoadOrder order) {
        this.version = version;
        this.workArrived = workArrived;
        this.minSplitBlocks = minSplitBlocks;
        this.lastProgressNanos = now;
        this.order = order;
    }

    /** Wants the blocks of {@code [from, to)} that the version does not hold or load yet. */
    void want(long from, long to) {
        for (long index = from; index < to; index++) {
            if (version.blocks.get(index) == null) {
                pending.set(Math.toIntExact(index));
            }
        }
    }

    /** A reader waits for block {@code index} (queued in the version's table). */
    void demand(long index) {
        pending.set(Math.toIntExact(index));
        if (!demanded.contains(index)) {
            demanded.add(index);
        }
    }

    boolean idle() {
        return streams.isEmpty() && pending.isEmpty() && starved.isEmpty();
    }

    /** Nothing wanted and nothing in flight: what streams it has are only lingering. */
    boolean quiet() {
        if (!pending.isEmpty() || !starved.isEmpty()) {
            return false;
        }
        for (LoadStream stream : streams) {
            if (!stream.current.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** Whether a stream will reach block {@code index} within {@link #JOIN_BLOCKS}. */
    boolean nearlyReached(long index) {
        for (LoadStream stream : streams) {
            if (!stream.stopping && stream.covers(index) && index - stream.next < JOIN_BLOCKS) {
                return true;
            }
        }
        return false;
    }

    /**
     * The next block {@code stream} should try to claim, taken out of the pending set, or -1 if
     * there is nothing for it now.
     */
    long next(LoadStream stream) {
        if (whole && order != null) {
            long picked = pickInOrder();
            if (picked >= 0) {
                return picked;
            }
        }
        while (true) {
            long index = nextInRun(stream);
            if (index >= 0) {
                return index;
            }
            if (!assign(stream)) {
                return -1;
            }
        }
    }

    /**
     * The next pending block of {@code stream}'s own run, taken out of the pending set, or -1:
     * what a stream may claim ahead, never a new run (splitting another stream's run early would
     * leave both shorter).
     */
    long nextInRun(LoadStream stream) {
        while (stream.next < stream.end) {
            long index = stream.next++;
            if (pending.get((int) index)) {
                pending.clear((int) index);
                demanded.remove(index);
                return index;
            }
        }
        return -1;
    }

    /**
     * The next block by the loader's order: the oldest a reader waits for, else the order's pick;
     * taken out of the pending set. -1 if the order leaves the choice to file order.
     */
    private long pickInOrder() {
        demanded.removeIf(index -> !pending.get((int) (long) index));
        long index = demanded.isEmpty() ? order.pick(pending) : demanded.getFirst();
        if (index < 0 || !pending.get((int) index)) {
            return -1;
        }
        pending.clear((int) index);
        demanded.remove(index);
        return index;
    }

    /** How many streams the loader's order wants now; 0 when it has none or picks nothing. */
    int orderStreams() {
        return whole && order != null ? order.streams() : 0;
    }

    /** Gives {@code stream} a new run; false if there is no work it should take. */
    boolean assign(LoadStream stream) {
        return continueInOrder(stream) || takeDemand(stream) || takeUncovered(stream) || (whole && split(stream));
    }

    /**
     * Goes on reading in order: into the pending blocks right after the run, or for a whole-file
     * load into the next pending block ahead, over blocks another stream already loaded (a short
     * skip forward costs an object-storage mount far less than a jump to wherever a reader is).
     */
    private boolean continueInOrder(LoadStream stream) {
        long from = stream.end;
        if (from < 0) {
            return false;
        }
        long next = whole ? pending.nextSetBit((int) from) : pending.get((int) from) ? from : -1;
        if (next < 0 || coveredByOther(stream, next)) {
            return false;
        }
        stream.next = next;
        stream.end = runEnd(next);
        return true;
    }

    private boolean takeDemand(LoadStream stream) {
        demanded.removeIf(index -> !pending.get((int) (long) index));
        for (long index : demanded) {
            if (nearlyReached(index)) {
                continue;
            }
            for (LoadStream other : streams) {
                if (other != stream && other.covers(index)) {
                    stream.next = index;
                    stream.end = other.end;
                    other.end = index;
                    return true;
                }
            }
            stream.next = index;
            stream.end = runEnd(index);
            return true;
        }
        return false;
    }

    private boolean takeUncovered(LoadStream stream) {
        long bestStart = -1;
        long bestEnd = -1;
        for (int start = pending.nextSetBit(0); start >= 0; ) {
            int stop = pending.nextClearBit(start);
            // cut [start, stop) by the streams' runs; what is left is nobody's
            long at = start;
            while (at < stop) {
                LoadStream owner = coveringOther(stream, at);
                if (owner != null) {
                    at = owner.end;
                    continue;
                }
                long uncoveredEnd = Math.min(stop, nextRunStart(stream, at));
                if (uncoveredEnd - at > bestEnd - bestStart && !continuedByOther(stream, at)) {
                    bestStart = at;
                    bestEnd = uncoveredEnd;
                }
                at = uncoveredEnd;
            }
            start = stop >= 0 ? pending.nextSetBit(stop) : -1;
        }
        if (bestStart < 0) {
            return false;
        }
        stream.next = bestStart;
        stream.end = bestEnd;
        return true;
    }

    private boolean split(LoadStream stream) {
        LoadStream longest = null;
        for (LoadStream other : streams) {
            if (other != stream && !other.stopping && (longest == null || other.remaining() > longest.remaining())) {
                longest = other;
            }
        }
        if (longest == null || longest.remaining() < 2L * minSplitBlocks) {
            return false;
        }
        long middle = longest.next + longest.remaining() / 2;
        stream.next = middle;
        stream.end = longest.end;
        longest.end = middle;
        return true;
    }

    /** The end of the pending run from {@code from}, stopping where another stream's run begins. */
    private long runEnd(long from) {
        long end = pending.nextClearBit((int) from);
        for (LoadStream other : streams) {
            if (other.next > from && other.next < end) {
                end = other.next;
            }
        }
        return end;
    }

    private boolean coveredByOther(LoadStream stream, long index) {
        return coveringOther(stream, index) != null;
    }

    private LoadStream coveringOther(LoadStream stream, long index) {
        for (LoadStream other : streams) {
            if (other != stream && other.covers(index)) {
                return other;
            }
        }
        return null;
    }

    private long nextRunStart(LoadStream stream, long from) {
        long start = Long.MAX_VALUE;
        for (LoadStream other : streams) {
            if (other != stream && other.next > from && other.next < other.end) {
                start = Math.min(start, other.next);
            }
        }
        return start;
    }

    /** Whether another stream's run ends right at {@code index}: it will go on into it. */
    private boolean continuedByOther(LoadStream stream, long index) {
        for (LoadStream other : streams) {
            if (other != stream && !other.stopping && other.end == index) {
                return true;
            }
        }
        return false;
    }

    /** Forgets the pending blocks no reader waits for: loading ahead has to stop. */
    void dropUndemanded() {
        pending.clear();
        for (long index : demanded) {
            pending.set((int) index);
        }
    }

    /**
     * Takes block {@code index} out of the pending set if it is the next of {@code stream}'s run,
     * so that the stream reads it in the same go as the block before: true if it did.
     */
    boolean takeNextOfRun(LoadStream stream, long index) {
        if (stream.next != index || index >= stream.end || !pending.get((int) index)) {
            return false;
        }
        stream.next++;
        pending.clear((int) index);
        demanded.remove(index);
        return true;
    }

    /** Puts a block taken by {@link #takeNextOfRun} back, first in line for its stream. */
    void untake(LoadStream stream, long index) {
        pending.set((int) index);
        stream.next = index;
    }

    /** Block {@code index}, which readers wait for, found no room: it waits for {@link #unstarve}. */
    void starve(long index) {
        starved.set(Math.toIntExact(index));
    }

    /** Room was freed: the starved blocks are wanted again, first in line. Returns whether there were any. */
    boolean unstarve() {
        if (starved.isEmpty()) {
            return false;
        }
        for (int index = starved.nextSetBit(0); index >= 0; index = starved.nextSetBit(index + 1)) {
            if (version.blocks.get(index) != null && version.blocks.get(index).state == Block.State.QUEUED) {
                demand(index);
            }
        }
        starved.clear();
        return true;
    }

    /** Blocks still to load. */
    int pendingBlocks() {
        return pending.cardinality();
    }

    /**
     * One stream of a load: a thread of its own, run by {@link LoadStreams}, that loads one block
     * after another through one {@link BlockReader}, walking a run of the file in order. Fields
     * other than the final and volatile ones are guarded by the cache lock.
     */
    static final class LoadStream {

        final FileLoad load;
        /** The next block of the run to look at, and the end of the run (exclusive); -1 before the first run. */
        long next = -1;
        long end = -1;
        /**
         * The blocks this stream has claimed: the run it reads now and the runs it claimed ahead
         * ({@link LoadStreams#AHEAD_CLAIMS}), in the order it reads them; or empty.
         */
        final List<Block> current = new ArrayList<>(4);
        /** Asked to end after the runs it has claimed: the tuner dropped a stream, or the load failed. */
        boolean stopping;
        /** Given up on by the watchdog: its thread is stuck in the source and may return any time, or never. */
        boolean abandoned;
        /**
         * When the current load began or last made progress ({@link LoadProgress}), by
         * System.nanoTime; 0 while not loading. Read by the watchdog and by waiting readers.
         */
        volatile long busySince;

        LoadStream(FileLoad load) {
            this.load = load;
        }

        /** The current load is still receiving: its silence starts again now. */
        void progressed() {
            if (busySince != 0) {
                busySince = Math.max(1, System.nanoTime());
            }
        }

        /** Blocks left in the run. */
        long remaining() {
            return Math.max(0, end - next);
        }

        boolean covers(long index) {
            return next <= index && index < end;
        }

        @Override
        public String toString() {
            return load.version.file.path() + " stream [" + next + ", " + end + ")";
        }
    }
}
