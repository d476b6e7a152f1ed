package io.cachefs.cache;

import io.cachefs.cache.Reclaimer.Reclamation;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How an acquire waits for a block it does not find present: for its load, with a deadline that
 * is silence rather than time (a reader waits as long as its file's load keeps delivering, and
 * fails after the source timeout without progress, giving up on the stream that holds its
 * block), or for a release of the block's range to end. Waits outside the cache lock.
 */
final class LoadWaiting {

    /** How often a waiting reader looks whether its file's load has gone silent. */
    private static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final ReentrantLock lock;
    private final LoadStreams streams;
    private final Pins pins;
    private final Reclaimer reclaimer;
    private final Duration sourceTimeout;

    LoadWaiting(ReentrantLock lock, LoadStreams streams, Pins pins, Reclaimer reclaimer, Duration sourceTimeout) {
        this.lock = lock;
        this.streams = streams;
        this.pins = pins;
        this.reclaimer = reclaimer;
        this.sourceTimeout = sourceTimeout;
    }

    /**
     * Waits until the load of {@code block}, which the caller pinned, has ended; returns with the
     * block present and the pin kept for the caller's lease.
     *
     * @throws IOException if the load failed, or delivered nothing for the source timeout
     */
    void awaitLoad(Block block, CompletableFuture<Void> settled, long waitStart) throws IOException {
        try {
            while (true) {
                try {
                    settled.get(WAIT_SLICE_NANOS, TimeUnit.NANOSECONDS);
                    return;
                } catch (TimeoutException e) {
                    if (silentSince(block.version, waitStart)) {
                        giveUpOn(block);
                        abandonWait(block);
                        throw new SourceTimeoutException("block " + block.index + " of " + block.version.file.path()
                                + ": nothing arrived for " + sourceTimeout.toSeconds()
                                + " s (from the source or, in a group, a peer)");
                    }
                }
            }
        } catch (ExecutionException e) {
            throw new IOException("loading block " + block.index + " of " + block.version.file.path() + " failed: "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            abandonWait(block);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for block " + block.index
                    + " of " + block.version.file.path());
        }
    }

    /** Waits for block {@code index}'s range to be given back, so that the acquire can look again. */
    void awaitRelease(FileVersion file, long index, CompletableFuture<Void> released) throws IOException {
        try {
            released.get(sourceTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new SourceTimeoutException("block " + index + " of " + file.path()
                    + " is still held by a source read that did not return");
        } catch (ExecutionException e) {
            // the release ended the block's previous life; look again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for block " + index + " of " + file.path());
        }
    }

    /** A reader timed out on {@code block}: the stream loading it (if any) is abandoned now, and says so. */
    private void giveUpOn(Block block) {
        lock.lock();
        try {
            streams.abandonLoading(block);
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code version}'s load has delivered nothing since the timeout before now (nor since {@code since}). */
    private boolean silentSince(CachedVersion version, long since) {
        lock.lock();
        try {
            return streams.silentSince(version, since);
        } finally {
            lock.unlock();
        }
    }

    /** Gives up a pin taken to wait for a load, whatever became of the load. */
    private void abandonWait(Block block) {
        Reclamation reclamation = null;
        lock.lock();
        try {
            switch (block.state) {
                case QUEUED, LOADING -> block.pins = Math.max(0, block.pins - 1);
                case PRESENT -> reclamation = pins.unpin(block, null);
                default -> { } // the load failed: its pins went with it
            }
        } finally {
            lock.unlock();
        }
        reclaimer.reclaim(reclamation);
    }
}
