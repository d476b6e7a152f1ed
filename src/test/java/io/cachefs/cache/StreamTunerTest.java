package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.cache.FileLoad.LoadStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hill climb against model sources, on a clock the test moves. */
class StreamTunerTest {
    private static final int BLOCK = 4 << 20;
    private static final double MB = 1e6;

    /** Loads blocks for {@code seconds} against a source whose rate depends on the streams and the time. */
    private static StreamTuner run(double seconds, RateModel source) {
        return run(seconds, source, 1);
    }

    private static StreamTuner run(double seconds, RateModel source, int first) {
        StreamTuner tuner = new StreamTuner(BLOCK, "model", first);
        List<LoadStream> streams = new ArrayList<>();
        for (int i = 0; i < first; i++) {
            streams.add(new LoadStream(null));
        }
        long now = 1;
        int turn = 0;
        while (now < seconds * 1e9) {
            double rate = source.bytesPerSecond(streams.size(), now);
            now += (long) (BLOCK / rate * 1e9);
            LoadStream stream = streams.get(turn++ % streams.size());
            int change = tuner.loaded(stream, BLOCK, streams.size(), now);
            if (change > 0) {
                LoadStream added = new LoadStream(null);
                streams.add(added);
                tuner.added(added);
            } else if (change < 0) {
                tuner.ended(streams.removeLast());
            }
        }
        return tuner;
    }

    /**
     * As {@link #run}, but the way loads land: each stream reads a run of four blocks in one go
     * and publishes them at once, and streams started together stay in step.
     */
    private static StreamTuner runInRuns(double seconds, RateModel source, int first) {
        StreamTuner tuner = new StreamTuner(4L * BLOCK, "model", first);
        List<LoadStream> streams = new ArrayList<>();
        List<Long> landsAt = new ArrayList<>();
        long runBytes = 4L * BLOCK;
        for (int i = 0; i < first; i++) {
            streams.add(new LoadStream(null));
            landsAt.add((long) (runBytes / source.bytesPerSecond(first, 0) * first * 1e9));
        }
        long now = 0;
        while (now < seconds * 1e9) {
            int next = 0;
            for (int i = 1; i < streams.size(); i++) {
                next = landsAt.get(i) < landsAt.get(next) ? i : next;
            }
            now = landsAt.get(next);
            LoadStream stream = streams.get(next);
            int change = 0;
            for (int block = 0; block < 4 && change == 0; block++) {
                change = tuner.loaded(stream, BLOCK, streams.size(), now);
            }
            double perStream = source.bytesPerSecond(streams.size(), now) / streams.size();
            landsAt.set(next, now + (long) (runBytes / perStream * 1e9));
            if (change > 0) {
                LoadStream added = new LoadStream(null);
                streams.add(added);
                landsAt.add(now + (long) (runBytes / perStream * 1e9));
                tuner.added(added);
            } else if (change < 0) {
                tuner.ended(streams.removeLast());
                landsAt.removeLast();
            }
        }
        return tuner;
    }

    @FunctionalInterface
    interface RateModel {
        double bytesPerSecond(int streams, long nanos);
    }

    @Test
    void aSourceThatCapsEachConnectionGetsManyStreams() {
        StreamTuner tuner = run(60, (streams, now) -> Math.min(streams, 8) * 40 * MB);
        assertTrue(tuner.settled());
        assertTrue(tuner.target() >= 7, "8 connections of 40 MB/s want 8 streams, got " + tuner.target());
    }

    @Test
    void aSourceThatStartsWithSeveralStreamsClimbsFromThereAndNeverBelow() {
        // s3://: four streams at first; the climb goes on while a stream adds 10%
        StreamTuner capped = run(60, (streams, now) -> Math.min(streams, 8) * 40 * MB, 4);
        assertTrue(capped.target() >= 7, "8 connections of 40 MB/s want 8 streams, got " + capped.target());
        // a fifth stream that adds nothing is dropped back to the four it started with
        StreamTuner flat = run(60, (streams, now) -> Math.min(streams, 4) * 40 * MB, 4);
        assertTrue(flat.settled());
        assertEquals(4, flat.target());
    }

    @Test
    void blocksThatLandARunAtATimeAreMeasuredOverEnoughRuns() {
        // s3:// in bench/s3-source: streams read runs of four blocks, and streams started
        // together land theirs together; a probe's first quarter second then held one run and
        // read as "55 MB/s" against 163 with four streams, and the mount kept four
        StreamTuner capped = runInRuns(60, (streams, now) -> Math.min(streams, 8) * 40 * MB, 4);
        assertTrue(capped.target() >= 7, "8 connections of 40 MB/s want 8 streams, got " + capped.target());
        StreamTuner shared = runInRuns(60, (streams, now) -> streams == 1 ? 84 * MB : 58 * MB, 1);
        assertEquals(1, shared.target(), "one shared limit keeps one stream");
    }

    @Test
    void aSourceBehindOneSharedLimitKeepsOneStream() {
        StreamTuner tuner = run(60, (streams, now) -> streams == 1 ? 84 * MB : 58 * MB);
        assertTrue(tuner.settled());
        assertEquals(1, tuner.target());
    }

    @Test
    void aClimbThatStoppedWhileTheMachineWasSlowIsTakenUpAgainOnceItIsFast() {
        // the first 10 s: a cold JVM on a busy machine, where a second stream costs (s3:// here:
        // 85 MB/s, then 59 with two); then the same source with the daemon's code compiled, where
        // each stream's GETs run at the store's cap
        RateModel warmingUp = (streams, now) -> now < 10e9
                ? (streams == 1 ? 85 * MB : 59 * MB)
                : Math.min(streams, 6) * 150 * MB;
        StreamTuner early = run(9, warmingUp);
        assertEquals(1, early.target(), "settled on one stream while slow");
        StreamTuner later = run(120, warmingUp);
        assertTrue(later.target() >= 5, "climbed again once fast: " + later.target());
    }

    @Test
    void aClimbThatFindsNoWorkForAnotherStreamGoesOnWithTheNextLoadNotInThisOnesTail() {
        StreamTuner tuner = new StreamTuner(BLOCK, "model");
        LoadStream first = new LoadStream(null);
        LoadStream second = new LoadStream(null);
        long[] now = {1};
        assertEquals(List.of(1), landings(tuner, List.of(first), 1, 40, now, 1), "one stream's window asks for a second");
        tuner.added(second);
        assertEquals(List.of(1), landings(tuner, List.of(second, first), 2, 40, now, 1), "two streams of 40 MB/s ask for a third");
        tuner.notAdded(); // the load had no run left to split for a third

        // the load's tail: its two streams slow down as their work runs out; the old verdict
        // (a window of two streams no faster than one) would settle on one stream here
        assertEquals(List.of(), landings(tuner, List.of(first, second), 2, 20, now, 5), "no verdict in the tail");
        assertFalse(tuner.settled());
        assertEquals(0, tuner.loaded(first, BLOCK, 1, now[0] += 1_000_000)); // its streams run dry

        assertEquals(List.of(1), landings(tuner, List.of(first, second), 2, 40, now, 1),
                "the next load measures two streams afresh, and climbs on");
    }

    /**
     * Lands blocks of {@code streams} in turn, each stream at {@code mbPerStream}, for up to
     * {@code seconds} or until the tuner asks for a change; returns the changes it asked for.
     */
    private static List<Integer> landings(StreamTuner tuner, List<LoadStream> streams, int busy, double mbPerStream,
                                          long[] now, double seconds) {
        long end = now[0] + (long) (seconds * 1e9);
        long blockNanos = (long) (BLOCK / (mbPerStream * MB * streams.size()) * 1e9);
        List<Integer> changes = new ArrayList<>();
        for (int turn = 0; now[0] < end && changes.isEmpty(); turn++) {
            now[0] += blockNanos;
            int change = tuner.loaded(streams.get(turn % streams.size()), BLOCK, busy, now[0]);
            if (change != 0) {
                changes.add(change);
            }
        }
        return changes;
    }

    @Test
    void aPauseBetweenTwoFilesIsNotMeasuredAsASlowSource() {
        // s3:// in bench/s3-source: a probe of a third stream measured "0 MB/s" because the window
        // opened by the last block of one object ran on until the first block of the next
        StreamTuner tuner = new StreamTuner(BLOCK, "model");
        LoadStream first = new LoadStream(null);
        long now = 1;
        long blockNanos = (long) (BLOCK / (40 * MB) * 1e9);
        int change = 0;
        while (change == 0) {
            now += blockNanos;
            change = tuner.loaded(first, BLOCK, 1, now);
        }
        assertEquals(1, change, "a first window asks for a second stream");
        LoadStream second = new LoadStream(null);
        tuner.added(second);
        now += blockNanos;
        assertEquals(0, tuner.loaded(second, BLOCK, 2, now)); // its warm-up
        now += blockNanos / 2;
        assertEquals(0, tuner.loaded(first, BLOCK, 2, now)); // the window opens
        tuner.ended(first); // the file is done
        tuner.ended(second);
        now += 20_000_000_000L; // the reader opens the next file 20 s later
        LoadStream third = new LoadStream(null);
        LoadStream fourth = new LoadStream(null);
        for (int i = 0; i < 4; i++) {
            now += blockNanos / 2;
            assertEquals(0, tuner.loaded(i % 2 == 0 ? third : fourth, BLOCK, 2, now),
                    "block " + i + " of the next file");
        }
        assertEquals(2, tuner.target());
    }
}
