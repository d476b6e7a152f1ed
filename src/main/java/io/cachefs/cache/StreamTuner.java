package io.cachefs.cache;

import io.cachefs.cache.FileLoad.LoadStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many streams a whole-file load runs at once, learned from the source by hill climbing: no
 * fixed number serves every source. An object-storage mount that caps each connection is as fast
 * as the streams it is given (eight streams, eight connections, eight times the rate); one behind
 * a shared bandwidth limit only loses from a second stream (each extra handle is another ranged
 * GET whose read-ahead is thrown away on a seek); a plain folder does not care.
 *
 * <p>Start with one stream. Measure the aggregate rate over a window of busy streams; add a
 * stream, let it warm up (its first block pays the open and the new connection's slow start),
 * measure again; keep adding while each stream raises the rate by at least {@link #GAIN}, and
 * drop back by one the first time it does not. What it settled on is remembered for the mount
 * (this object lives as long as the cache) and logged. A window counts only while as many
 * streams as the target are busy: the tail of a file, when streams run out of work, says nothing
 * about the source.
 *
 * <p>What was settled is looked at again when the settled count later runs clearly faster than
 * it did when the climb stopped ({@link #GAIN} more): the first files of a mount are loaded by a
 * JVM still compiling its code on a machine still busy starting, and a second stream that lost
 * then may win now. The climb goes on from there, at most once a {@link #REPROBE_NANOS}, so a
 * source that only serializes readers pays for a probe rarely.
 *
 * <p>Guarded by the cache lock.
 */
final class StreamTuner {
    private static final Logger LOG = LoggerFactory.getLogger(StreamTuner.class);

    /** Beyond this, two cores spend more on streams than they gain; it also bounds fds and threads. */
    static final int MAX_STREAMS = 16;
    /** Short enough to settle within the first gigabyte at 80 MB/s, long enough to average a GET's ramp. */
    private static final long WINDOW_NANOS = 500_000_000L;
    /**
     * A window must also see this many landings per stream (a stream publishes a block, or a run
     * of blocks read in one go, at once), so that a fast source is not judged by one landing.
     */
    private static final int LANDINGS_PER_STREAM = 2;
    /** Less than this per added stream is noise on a shared machine, not a faster source. */
    static final double GAIN = 0.10;
    /** A loss this large is no noise: the probe ends early. */
    private static final double CLEAR_LOSS = 0.15;
    /** The least time between two climbs: a probe that loses costs half a window of rate. */
    static final long REPROBE_NANOS = 10_000_000_000L;
    /**
     * How much faster the settled count must run than when it was chosen to climb again: well
     * above the noise of a shared machine, well below what a warmed-up JVM gains (85 to 157 MB/s
     * for one stream of an s3:// source here).
     */
    static final double REPROBE_GAIN = 0.25;

    /** The bytes a stream publishes at once: a block, or a run of them ({@link BlockLoads#landingBytes}). */
    private final long landingBytes;
    private final String sourceName;
    private int target = 1;
    private boolean settled;
    private final long[] rateWith = new long[MAX_STREAMS + 1];
    /** The stream just added, whose first block has not been loaded yet; null if none. */
    private LoadStream warming;
    private boolean measuring;
    private long windowStart;
    private long windowBytes;
    private long lastRate;
    /** When the last climb settled (System.nanoTime), for the spacing of climbs. */
    private long settledAt;
    /**
     * A +1 found no work to give a new stream: the loads are in their tail, where streams run
     * out of work one by one, and no window says anything of the source until they have.
     */
    private boolean inTail;

    StreamTuner(long landingBytes, String sourceName) {
        this(landingBytes, sourceName, 1);
    }

    /**
     * @param landingBytes the bytes a stream publishes at once: a block, or a run of blocks read in one go
     * @param first the streams to start with (the source's hint); the climb goes on from there, never below
     */
    StreamTuner(long landingBytes, String sourceName, int first) {
        this.landingBytes = landingBytes;
        this.sourceName = sourceName;
        this.target = Math.clamp(first, 1, MAX_STREAMS);
    }

    int target() {
        return target;
    }

    boolean settled() {
        return settled;
    }

    long lastRate() {
        return lastRate;
    }

    /**
     * A block of a whole-file load was loaded by {@code stream}, with {@code busyStreams}
     * streams of whole-file loads running. Returns +1 to add a stream, -1 to stop one, 0 to
     * leave them.
     */
    int loaded(LoadStream stream, long bytes, int busyStreams, long now) {
        if (busyStreams < target) {
            measuring = false; // the load is running out of work: its rate says nothing
            inTail = false; // and the next load starts afresh
            return 0;
        }
        if (inTail) {
            return 0;
        }
        if (warming != null) {
            if (stream != warming) {
                return 0;
            }
            warming = null;
            measuring = false;
        }
        if (!measuring) {
            measuring = true;
            windowStart = now;
            windowBytes = 0;
            return 0;
        }
        windowBytes += bytes;
        long elapsed = now - windowStart;
        // Landings come a run at a time, and streams started together land together: a quarter
        // second of five s3:// streams once held one run and read as "55 MB/s" against 163 with
        // four. So no verdict, not even an early one, rests on fewer landings than a window's.
        boolean enoughLandings = windowBytes >= target * LANDINGS_PER_STREAM * landingBytes;
        if (!settled && target > 1 && elapsed >= WINDOW_NANOS / 2 && enoughLandings
                && windowBytes * 1e9 / elapsed < rateWith[target - 1] * (1 - CLEAR_LOSS)) {
            // a stream that clearly costs rate is dropped at half a window: on a source that
            // serializes its readers the probe is the slowest part of the read
            rateWith[target] = (long) (windowBytes * 1e9 / elapsed);
            settle(target - 1, now);
            return -1;
        }
        if (elapsed < WINDOW_NANOS || !enoughLandings) {
            return 0;
        }
        long rate = (long) (windowBytes * 1e9 / elapsed);
        lastRate = rate;
        windowStart = now;
        windowBytes = 0;
        if (settled) {
            if (target < MAX_STREAMS && rate > rateWith[target] * (1 + REPROBE_GAIN) && now - settledAt > REPROBE_NANOS) {
                rateWith[target] = rate; // the settled count runs faster than when it was chosen: climb again
                settled = false;
                target++;
                return +1;
            }
            return 0;
        }
        rateWith[target] = rate;
        if (rateWith[target - 1] == 0 || rate >= rateWith[target - 1] * (1 + GAIN)) {
            if (target < MAX_STREAMS) {
                target++;
                return +1;
            }
            settle(target, now);
            return 0;
        }
        settle(target - 1, now);
        return -1;
    }

    /** The stream added after a +1 has started: its first block is its warm-up. */
    void added(LoadStream stream) {
        warming = stream;
    }

    /**
     * A +1 found nothing to give a new stream: the climb goes on with the next load. Measured in
     * this one's tail, the streams that run would look slower than they are: over rclone's S3
     * mount such a window (79 MB/s for three streams, against 129 in the window before) once
     * settled the climb on two streams, which then loaded at 80 MB/s where four made 155.
     */
    void notAdded() {
        target--;
        measuring = false;
        inTail = true;
    }

    /**
     * A stream ended: one still warming up no longer blocks the measurement, and the window starts
     * again, for the time until the next block may be a pause between two files (a reader that
     * opens the next model seconds later) that says nothing of the source's rate.
     */
    void ended(LoadStream stream) {
        if (warming == stream) {
            warming = null;
        }
        measuring = false;
    }

    private void settle(int streams, long now) {
        target = streams;
        settled = true;
        settledAt = now;
        StringBuilder rates = new StringBuilder();
        for (int n = 1; n < rateWith.length; n++) {
            if (rateWith[n] > 0) { // a source's first streams are not measured one by one
                rates.append(rates.isEmpty() ? "" : ", ").append(n).append(": ").append(rateWith[n] / 1_000_000)
                        .append(" MB/s");
            }
        }
        LOG.info("{}: loading with {} stream{} per file (measured {})", sourceName, streams, streams == 1 ? "" : "s",
                rates);
    }
}
