package io.cachefs.cache;

import java.util.ArrayList;
import java.util.List;

/**
 * One stream of a {@link FileLoad}: a thread of its own that loads one block after another
 * through one {@link BlockReader}, walking a run of the file in order. Fields other than the
 * final and volatile ones are guarded by the cache lock.
 */
final class LoadStream {

    final FileLoad load;
    /** The next block of the run to look at, and the end of the run (exclusive); -1 before the first run. */
    long next = -1;
    long end = -1;
    /** The blocks this stream is loading now (consecutive, read in one go), or empty. */
    final List<Block> current = new ArrayList<>(4);
    /** Asked to end after its current read: the tuner dropped a stream, or the load failed. */
    boolean stopping;
    /** Given up on by the watchdog: its thread is stuck in the source and may return any time, or never. */
    boolean abandoned;
    /** When the current load began (System.nanoTime), 0 while not loading; read by the watchdog. */
    volatile long busySince;

    LoadStream(FileLoad load) {
        this.load = load;
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
