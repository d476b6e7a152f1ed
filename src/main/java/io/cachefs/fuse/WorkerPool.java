package io.cachefs.fuse;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * The threads that serve one mount's requests. At least {@code idle} of them wait for the next
 * request; when the last idle one takes a request, another starts, up to {@code max}; a worker
 * that finds enough others idle after its request ends. So a request that waits (a miss on a slow
 * source, a hung source until its deadline) never keeps the kernel's other requests waiting:
 * a stat or a read of cached bytes always finds a worker. libfuse's multithreaded loop and
 * go-fuse grow the same way. Counting costs two atomic operations per request.
 */
final class WorkerPool {

    private final int minIdle;
    private final int max;
    private final IntFunction<Thread> starter;
    private final AtomicInteger idle = new AtomicInteger();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final AtomicLong died = new AtomicLong();

    /**
     * @param starter starts worker number {@code n} on a thread of its own and returns the thread
     */
    WorkerPool(int minIdle, int max, IntFunction<Thread> starter) {
        if (minIdle < 1 || max < minIdle) {
            throw new IllegalArgumentException("need 1 <= idle workers <= max workers, got " + minIdle + ", " + max);
        }
        this.minIdle = minIdle;
        this.max = max;
        this.starter = starter;
    }

    /** Starts the idle workers. */
    void start() {
        for (int i = 0; i < minIdle; i++) {
            grow();
        }
    }

    /** A worker took a request; if no other is left waiting, another one starts. */
    void busy() {
        if (idle.decrementAndGet() <= 0) {
            grow();
        }
    }

    /**
     * A worker finished its request: true if it should wait for the next one, false if it should
     * end because enough others wait already (it is then no longer counted).
     */
    boolean idleAgain() {
        while (true) {
            int now = idle.get();
            if (now >= minIdle) {
                running.decrementAndGet();
                return false;
            }
            if (idle.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /**
     * A worker stopped waiting for requests for good (unmounted, or an error); returns true when
     * it was the last one running.
     */
    boolean exited() {
        idle.decrementAndGet();
        return running.decrementAndGet() == 0;
    }

    /** A worker stopped by an unexpected error; counted, since it may leave the mount short. */
    void died() {
        died.incrementAndGet();
    }

    private void grow() {
        while (true) {
            int now = running.get();
            if (now >= max) {
                return;
            }
            if (running.compareAndSet(now, now + 1)) {
                peak.accumulateAndGet(now + 1, Math::max);
                idle.incrementAndGet();
                starter.apply(started.getAndIncrement());
                return;
            }
        }
    }

    WorkerStats stats() {
        return new WorkerStats(running.get(), Math.max(0, idle.get()), peak.get(), max, died.get());
    }
}
