package io.cachefs.cache;

import io.cachefs.linux.Libc;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Populates the pages a run of blocks is about to be read into on a thread of its own, while
 * the run's read waits on its source; and the pages of the runs its stream claimed ahead, so
 * that those are ready before their reads begin.
 *
 * <p>Why: a fresh page has to be allocated and zeroed before anything can be written to it, and
 * on the VMs this runs on a page the guest gave back (free page reporting) is a trip to the
 * hypervisor when touched again: populating a 16 MiB run took 28 to 35 ms there, 2 to 3 ms
 * where the pages were reused, against 10 to 120 ms for the read itself. Populated on the
 * stream's own thread, that time sits between one read and the next, and an object-storage mount
 * such as s3fs, which fetches only when asked, stands idle through it. Here it overlaps the read:
 * the read is handed memory whose first pages are ready and goes to the source at once; the rest
 * is populated while the source fetches, and a page the read reaches first it faults in itself.
 *
 * <p>A population must be {@linkplain Population#finish finished} before its range is published,
 * given back or unmapped: populating never changes bytes, but a range populated after its
 * blocks were punched would hold memory that no block accounts for.
 */
final class PagePopulator implements AutoCloseable {

    /** Populated before the read starts, so that its first requests find their pages: one huge page. */
    static final long FIRST_BYTES = HugePageTmpfs.HUGE_PAGE;

    private final ExecutorService thread;

    PagePopulator() {
        this(Executors.newSingleThreadExecutor(Thread.ofPlatform().name("cachefs-populate").daemon(true).factory()));
    }

    /** @param thread runs the populations, one at a time: a second thread would only compete with the reads */
    PagePopulator(ExecutorService thread) {
        this.thread = thread;
    }

    /**
     * Populates the first {@link #FIRST_BYTES} of {@code range} now and the rest on the populating
     * thread; the caller then reads into it and {@linkplain Population#finish finishes} the population.
     */
    Population start(MemorySegment range) {
        long first = Math.min(FIRST_BYTES, range.byteSize());
        Libc.populate(range.asSlice(0, first));
        Population population = new Population(range.asSlice(first));
        if (population.range.byteSize() == 0) {
            population.state = Population.DONE;
        } else {
            thread.execute(population);
        }
        return population;
    }

    /**
     * Populates all of {@code range} on the populating thread, after what is queued before it:
     * for a run claimed ahead, whose read comes after the one in progress.
     */
    Population later(MemorySegment range) {
        Population population = new Population(range);
        thread.execute(population);
        return population;
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }

    /** The population of one range: queued, running or done, and skipped if its read got there first. */
    static final class Population implements Runnable {
        private static final int QUEUED = 0;
        private static final int RUNNING = 1;
        private static final int DONE = 2;

        private final MemorySegment range;
        private int state = QUEUED;

        private Population(MemorySegment range) {
            this.range = range;
        }

        @Override
        public void run() {
            synchronized (this) {
                if (state != QUEUED) {
                    return; // finished before it started: the read faulted its pages in itself
                }
                state = RUNNING;
            }
            try {
                Libc.populate(range);
            } finally {
                synchronized (this) {
                    state = DONE;
                    notifyAll();
                }
            }
        }

        /**
         * Returns once nothing populates the range any more: skips the population if it has not
         * started (the read is over, its pages are in), else waits for it (its pages are in, so it
         * ends soon).
         */
        synchronized void finish() {
            boolean interrupted = false;
            while (state == RUNNING) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true; // the range must not be touched after we return: wait on
                }
            }
            state = DONE;
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
