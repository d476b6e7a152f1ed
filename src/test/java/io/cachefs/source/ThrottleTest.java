package io.cachefs.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThrottleTest {

    private static final long MS = 1_000_000L;

    /** A clock that only moves when the throttle sleeps, so waits can be checked exactly. */
    private final AtomicLong now = new AtomicLong(123 * MS);
    private final List<Long> sleeps = Collections.synchronizedList(new ArrayList<>());

    private Throttle throttle(long bytesPerSecond) {
        return new Throttle(bytesPerSecond, now::get, nanos -> {
            sleeps.add(nanos);
            now.addAndGet(nanos);
        });
    }

    @Test
    void idleThrottleLetsATenthOfASecondThroughWithoutWaiting() throws InterruptedException {
        Throttle throttle = throttle(1000);

        throttle.acquire(100);

        assertEquals(List.of(), sleeps);
    }

    @Test
    void bytesBeyondTheBurstWaitUntilTheyArePaidFor() throws InterruptedException {
        Throttle throttle = throttle(1000);

        throttle.acquire(100);
        throttle.acquire(50);

        assertEquals(List.of(50 * MS), sleeps);
    }

    @Test
    void aReadLargerThanTheBurstWaitsForTheMissingBytesOnly() throws InterruptedException {
        Throttle throttle = throttle(1000);

        throttle.acquire(1100);

        assertEquals(List.of(1000 * MS), sleeps);
    }

    @Test
    void sustainedReadsRunAtTheConfiguredRate() throws InterruptedException {
        Throttle throttle = throttle(1_000_000);
        long start = now.get();

        for (int i = 0; i < 1000; i++) {
            throttle.acquire(10_000);
        }

        // 10 MB at 1 MB/s, less the 100 KB burst the idle throttle granted at once.
        assertEquals(9_900 * MS, now.get() - start);
    }

    @Test
    void idleTimeSavesUpNoMoreThanOneBurst() throws InterruptedException {
        Throttle throttle = throttle(1000);
        throttle.acquire(100);

        now.addAndGet(60_000 * MS);
        throttle.acquire(100);
        throttle.acquire(100);

        assertEquals(List.of(100 * MS), sleeps);
    }

    @Test
    void concurrentReadersShareOneLimitAndEachGetsItsOwnSlot() throws InterruptedException {
        // The clock stands still: every reader reserves at the same instant, so the waits show
        // how the throttle queued them.
        Throttle throttle = new Throttle(1000, now::get, sleeps::add);
        int readers = 8;
        CountDownLatch done = new CountDownLatch(readers);
        for (int i = 0; i < readers; i++) {
            Thread.ofVirtual().start(() -> {
                try {
                    throttle.acquire(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            });
        }
        assertTrue(done.await(10, TimeUnit.SECONDS));

        List<Long> sorted = new ArrayList<>(sleeps);
        Collections.sort(sorted);
        // The first reader used the burst; the other seven wait 100, 200, ... 700 ms.
        assertEquals(List.of(100 * MS, 200 * MS, 300 * MS, 400 * MS, 500 * MS, 600 * MS, 700 * MS), sorted);
    }

    @Test
    void hugeRequestsDoNotOverflow() throws InterruptedException {
        Throttle throttle = throttle(1);

        throttle.acquire(Long.MAX_VALUE / 2);

        assertTrue(sleeps.getFirst() > 0);
    }

    @Test
    void nonPositiveRateIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Throttle(0));
        assertThrows(IllegalArgumentException.class, () -> new Throttle(-5));
        assertThrows(IllegalArgumentException.class, () -> throttle(10).acquire(-1));
    }

    @Test
    void realClockLimitsThroughputRoughly() throws InterruptedException {
        Throttle throttle = new Throttle(1_000_000);
        long start = System.nanoTime();

        for (int i = 0; i < 30; i++) {
            throttle.acquire(10_000);
        }

        // 300 KB at 1 MB/s with a 100 KB burst: about 200 ms. Only a wide sanity range.
        long elapsedMs = (System.nanoTime() - start) / MS;
        assertTrue(elapsedMs >= 150 && elapsedMs < 5_000, "took " + elapsedMs + " ms");
    }
}
