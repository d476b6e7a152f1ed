package io.cachefs.warmup;

import java.util.ArrayDeque;

/**
 * The read rate over the last few seconds, for the rate and ETA a person sees: a whole-run
 * average would hide a source that slowed down, a last-tick figure would jump about.
 */
final class Rate {
    private static final long WINDOW_NANOS = 5_000_000_000L;

    private record Sample(long nanos, long bytes) {
    }

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();

    /** Bytes per second over the window ending with this sample; 0 until two samples span time. */
    double add(long nanos, long bytes) {
        samples.addLast(new Sample(nanos, bytes));
        while (samples.size() > 2 && nanos - samples.getFirst().nanos() > WINDOW_NANOS) {
            samples.removeFirst();
        }
        Sample first = samples.getFirst();
        long span = nanos - first.nanos();
        return span <= 0 ? 0 : (bytes - first.bytes()) * 1e9 / span;
    }
}
