package io.cachefs.source;

import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * A bandwidth limit on source reads, in bytes per second, shared by every reader of one source so
 * that their total stays under it (a source may be a metered or shared link that a cold start of
 * many instances must not saturate).
 *
 * <p>A token bucket kept as one number, the time at which every byte granted so far is paid for
 * (GCRA). A caller reserves its bytes under a fair lock and then sleeps outside it until they are
 * paid for, so callers are served in arrival order and a large read does not starve small ones
 * forever. An idle throttle lets a burst of one tenth of a second's worth through at once. Over
 * any interval of T seconds at most {@code burst + rate * T} bytes are granted.
 *
 * <p>A caller interrupted while it waits has still used its reservation: the limit errs on the
 * side of reading less.
 */
public final class Throttle {

    /** Waits a number of nanoseconds; a test passes one that advances a fake clock. */
    @FunctionalInterface
    public interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** An idle throttle grants this much time's worth at once: enough for short reads to flow. */
    private static final long BURST_NANOS = NANOS_PER_SECOND / 10;

    private final long bytesPerSecond;
    private final LongSupplier nanoClock;
    private final Sleeper sleeper;
    private final ReentrantLock lock = new ReentrantLock(true);
    /**
     * The clock reading at which all bytes granted so far are paid for; later than now while
     * callers wait, and never earlier than one burst ago. Guarded by lock.
     */
    private long paidUntilNanos;

    public Throttle(long bytesPerSecond) {
        this(bytesPerSecond, System::nanoTime, nanos -> Thread.sleep(Duration.ofNanos(nanos)));
    }

    public Throttle(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("a throttle needs a positive number of bytes per second, got "
                    + bytesPerSecond + " (use no throttle for unlimited)");
        }
        this.bytesPerSecond = bytesPerSecond;
        this.nanoClock = nanoClock;
        this.sleeper = sleeper;
        this.paidUntilNanos = nanoClock.getAsLong() - BURST_NANOS;
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Blocks until {@code bytes} more bytes may be read. */
    public void acquire(long bytes) throws InterruptedException {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot acquire a negative number of bytes: " + bytes);
        }
        long waitNanos = reserve(bytes);
        if (waitNanos > 0) {
            sleeper.sleepNanos(waitNanos);
        }
    }

    /** Books {@code bytes} and returns how long the caller must wait before using them. */
    private long reserve(long bytes) {
        lock.lock();
        try {
            long now = nanoClock.getAsLong();
            // Time left idle beyond one burst is not saved up: that is what bounds the burst.
            long start = Math.max(paidUntilNanos, now - BURST_NANOS);
            paidUntilNanos = saturatedAdd(start, nanosFor(bytes));
            return Math.max(0, paidUntilNanos - now);
        } finally {
            lock.unlock();
        }
    }

    private long nanosFor(long bytes) {
        if (bytes <= Long.MAX_VALUE / NANOS_PER_SECOND) {
            return Math.ceilDiv(bytes * NANOS_PER_SECOND, bytesPerSecond);
        }
        return (long) Math.ceil((double) bytes / bytesPerSecond * NANOS_PER_SECOND);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
