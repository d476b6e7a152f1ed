package io.cachefs.source.s3;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How often and how long to wait before trying a failed request again: exponential back-off with
 * jitter (each wait is drawn between half and all of its ceiling, so that streams that failed
 * together do not retry together), as AWS recommends for 503 SlowDown.
 *
 * @param attempts tries in all, the first included
 * @param base the longest wait before the second try
 * @param cap the longest wait before any try
 */
record Backoff(int attempts, Duration base, Duration cap) {

    /**
     * Six tries over about five seconds at most: a store that throttles (503) or resets a
     * connection now and then is ridden out; one that keeps failing is reported well within a
     * reader's timeout.
     */
    static final Backoff DEFAULT = new Backoff(6, Duration.ofMillis(100), Duration.ofSeconds(2));

    /** The wait before try number {@code attempt} (2 for the first retry). */
    Duration before(int attempt) {
        long ceiling = Math.min(cap.toNanos(), base.toNanos() << Math.min(20, attempt - 2));
        return Duration.ofNanos(ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
    }
}
