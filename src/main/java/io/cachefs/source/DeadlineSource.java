package io.cachefs.source;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.io.InterruptedIOException;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * A {@link Source} whose metadata calls (stat, list, readlink) never keep their caller longer
 * than a deadline: each runs on a small pool of threads of its own, and a caller that has waited
 * the deadline gets a {@link SourceUnavailableException} while the call goes on (a call into a
 * dead NFS or FUSE mount may never return; its thread is lost to the pool, which is why the pool
 * is bounded). Calls that fail without a definite answer (an I/O error, a dead mount) are
 * reported the same way, so that callers can tell "the source says no" from "the source does not
 * say", and fall back on what they last knew.
 *
 * <p>Once a call has timed out, the source counts as unreachable, and calls wait only
 * {@link #UNREACHABLE_WAIT} until one succeeds again: a hung source costs each request a short
 * wait, not the whole deadline. Opens pass through: a load stream's open runs on the stream's
 * own thread, watched by the cache's watchdog.
 */
public final class DeadlineSource extends ForwardingSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeadlineSource.class);

    /** How long a call waits while the source is known not to answer: enough for one that came back. */
    static final Duration UNREACHABLE_WAIT = Duration.ofSeconds(1);
    /** Threads for metadata calls: a listing storm is served in parallel, a hung source takes at most these. */
    private static final int THREADS = 16;

    private final Duration deadline;
    private final ThreadPoolExecutor calls;
    /** When the source stopped answering (System.nanoTime), or 0 while it answers. */
    private final AtomicLong unreachableSince = new AtomicLong();
    private final LongAdder unanswered = new LongAdder();
    /** Calls someone waits for: closing fails them at once. */
    private final Set<Future<?>> waiting = ConcurrentHashMap.newKeySet();

    public DeadlineSource(Source delegate, Duration deadline) {
        super(delegate);
        this.deadline = deadline;
        this.calls = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                Thread.ofPlatform().name("cachefs-source-", 0).daemon(true).factory());
        calls.allowCoreThreadTimeOut(true);
    }

    @Override
    public Optional<SourceEntry> stat(String path) throws IOException {
        return call(() -> delegate.stat(path), "stat " + path);
    }

    @Override
    public List<SourceEntry> list(String dir) throws IOException {
        return call(() -> delegate.list(dir), "list " + (dir.isEmpty() ? "/" : dir));
    }

    @Override
    public String readlink(String path) throws IOException {
        return call(() -> delegate.readlink(path), "readlink " + path);
    }

    @Override
    public SourceFile open(FileVersion file) throws IOException {
        return delegate.open(file);
    }

    /** Whether the source answers (no call has timed out or failed since the last that succeeded). */
    public boolean reachable() {
        return unreachableSince.get() == 0;
    }

    /** Calls that got no answer in time, or no definite one, since start. */
    public long unanswered() {
        return unanswered.sum();
    }

    private <T> T call(Callable<T> call, String what) throws IOException {
        Future<T> result;
        try {
            result = calls.submit(call);
        } catch (RejectedExecutionException closed) {
            throw new SourceUnavailableException(what + ": the source is closed", closed);
        }
        long waitNanos = reachable() ? deadline.toNanos() : Math.min(deadline.toNanos(), UNREACHABLE_WAIT.toNanos());
        waiting.add(result);
        try {
            T answer = result.get(waitNanos, TimeUnit.NANOSECONDS);
            answered();
            return answer;
        } catch (TimeoutException e) {
            result.cancel(false); // still queued: it never runs; running: it ends when the source lets it
            throw unanswered(what + ": the source did not answer within "
                    + Duration.ofNanos(waitNanos).toMillis() + " ms", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (definite(cause)) {
                answered();
                throw (IOException) cause;
            }
            if (cause instanceof IOException failed) {
                throw unanswered(what + " failed in the source: " + failed.getMessage(), failed);
            }
            if (cause instanceof RuntimeException bug) {
                throw bug;
            }
            throw new IllegalStateException(cause);
        } catch (CancellationException closed) {
            throw new SourceUnavailableException(what + ": the source is closed", closed);
        } catch (InterruptedException e) {
            result.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + ": interrupted");
        } finally {
            waiting.remove(result);
        }
    }

    /** Answers about the file itself, which a retry or an older memory would not change. */
    private static boolean definite(Throwable failure) {
        return failure instanceof NoSuchFileException || failure instanceof NotDirectoryException
                || failure instanceof AccessDeniedException || failure instanceof FileSystemLoopException
                || failure instanceof StaleVersionException;
    }

    private void answered() {
        long since = unreachableSince.getAndSet(0);
        if (since != 0) {
            LOG.info("the source answers again after {} s", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since));
        }
    }

    private SourceUnavailableException unanswered(String message, Throwable cause) {
        unanswered.increment();
        if (unreachableSince.compareAndSet(0, Math.max(1, System.nanoTime()))) {
            LOG.warn("{}: until it answers again, calls wait at most {} ms and cached files are served as last "
                    + "verified", message, UNREACHABLE_WAIT.toMillis());
        }
        return new SourceUnavailableException(message, cause);
    }

    /** Stops the calls' threads (those stuck in the source stay stuck) and fails every caller waiting. */
    @Override
    public void close() {
        calls.shutdownNow();
        waiting.forEach(call -> call.cancel(true));
    }
}
