package io.cachefs.fuse;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The requests the workers are serving, by unique, so that an INTERRUPT can reach the one it
 * names. The kernel sends INTERRUPT when the process waiting for a request gets a signal: if the
 * request waits on something slow (a load from a hung source), the worker's thread is
 * interrupted, the wait ends with EINTR, and the process can die at once. Without it, a killed
 * reader would sit uninterruptible in the kernel until the request ends by its deadline, and a
 * killed process that waits on us could not even be reaped.
 *
 * <p>An INTERRUPT may be read by one worker before another has begun the request it names; such
 * early ones are kept (a few, dropped in bulk: most name requests already answered) and the
 * request is interrupted as it begins.
 */
final class RequestsInProgress {

    private static final int MAX_EARLY = 64;

    private final Map<Long, Thread> serving = new ConcurrentHashMap<>();
    private final Set<Long> early = ConcurrentHashMap.newKeySet();

    /** The calling thread begins serving request {@code unique}. */
    void begin(long unique) {
        Thread self = Thread.currentThread();
        serving.put(unique, self);
        if (!early.isEmpty() && early.remove(unique)) {
            self.interrupt();
        }
    }

    /** The calling thread is done with {@code unique}; an interrupt meant for it is cleared. */
    void end(long unique) {
        serving.remove(unique);
        Thread.interrupted(); // an INTERRUPT that came as the request ended must not hit the next one
    }

    /** The kernel interrupted request {@code unique}. */
    void interrupt(long unique) {
        // atomic with end()'s remove: a thread that has moved on is never interrupted
        Thread found = serving.computeIfPresent(unique, (key, thread) -> {
            thread.interrupt();
            return thread;
        });
        if (found == null) {
            if (early.size() >= MAX_EARLY) {
                early.clear();
            }
            early.add(unique);
        }
    }
}
