package io.cachefs.cache;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Work claimed under the cache lock and done outside it: loads between their claim and their
 * end, reclamations between their gathering and their punches. {@link BlockCache#close} waits
 * for it before it frees the memory that work uses. Guarded by the cache lock.
 */
final class InFlightWork {

    private final ReentrantLock lock;
    private final Condition done;
    private int count;

    InFlightWork(ReentrantLock lock) {
        this.lock = lock;
        this.done = lock.newCondition();
    }

    void begin() {
        assert lock.isHeldByCurrentThread() : "work counted outside the cache lock";
        count++;
    }

    void end() {
        assert lock.isHeldByCurrentThread() : "work counted outside the cache lock";
        count--;
        done.signalAll();
    }

    int count() {
        return count;
    }

    /**
     * Waits until no more than {@code allowed} pieces of work are in flight, or until
     * {@code deadlineNanos} (System.nanoTime). Returns whether it was interrupted meanwhile.
     */
    boolean awaitAtMost(int allowed, long deadlineNanos) {
        boolean interrupted = false;
        long left;
        while (count > allowed && (left = deadlineNanos - System.nanoTime()) > 0) {
            try {
                done.awaitNanos(left);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        return interrupted;
    }
}
