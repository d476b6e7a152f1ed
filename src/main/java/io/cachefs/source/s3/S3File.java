package io.cachefs.source.s3;

import io.cachefs.source.FileVersion;
import io.cachefs.source.SourceFile;
import io.cachefs.source.StaleVersionException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One load stream's handle on one object version. Opening costs nothing (every GET carries the
 * ETag, so the first read is the version check); a read of a range is cut into parts of
 * {@link #PART_BYTES}, fetched by parallel ranged GETs that each write into their own slice of
 * the destination. A store that caps each connection (most do) then gives a stream as many
 * times its per-connection rate as it has GETs out; the cache's stream tuner adds streams while
 * the total still rises.
 *
 * <p><b>Failures.</b> A part whose GET fails with a server error, throttling or a broken
 * connection, or that sends nothing for the {@linkplain S3Settings#stallTimeout() stall timeout},
 * is resumed from its last byte by a new GET after a {@link Backoff} wait, up to
 * {@link Backoff#attempts()} times. A 412 (the object changed) or a mismatching answer fails the
 * read with {@link StaleVersionException}, a 404 too (deleted); the other parts are cancelled.
 *
 * <p><b>Memory.</b> However a read ends, it cancels its GETs before it returns, and a cancelled
 * GET writes nothing more ({@link RangeGet#cancel}): the caller may reuse the memory at once.
 *
 * <p>Used by one thread at a time, like every {@link SourceFile}.
 */
final class S3File implements SourceFile {
    private static final Logger LOG = LoggerFactory.getLogger(S3File.class);

    /**
     * One GET's share of a read: a cache block (4 MiB by default), so that a stream's run of up to
     * 16 MiB goes out as four GETs at once; large enough that a request's overhead (signing, the
     * round trip, the server's lookup) is small next to its transfer.
     */
    static final long PART_BYTES = 4L << 20;
    /** At most this many GETs per read: a larger read is cut into larger parts. */
    static final int MAX_PARTS_IN_FLIGHT = 4;

    private final ObjectStore store;
    private final ObjectVersion object;
    private final long stallNanos;
    private boolean closed;

    S3File(ObjectStore store, ObjectVersion object) {
        this.store = store;
        this.object = object;
        this.stallNanos = store.settings().stallTimeout().toNanos();
    }

    @Override
    public FileVersion version() {
        return object.version();
    }

    @Override
    public void read(long offset, MemorySegment dst) throws IOException {
        long length = dst.byteSize();
        SourceFile.checkRange(object.version(), offset, length);
        if (closed) {
            throw new IOException("the handle on " + object.version().path() + " is closed");
        }
        if (length == 0) {
            return;
        }
        int count = (int) Math.min(MAX_PARTS_IN_FLIGHT, Math.ceilDiv(length, PART_BYTES));
        long partBytes = Math.ceilDiv(length, count);
        Part[] parts = new Part[count];
        LinkedBlockingQueue<Part> finished = new LinkedBlockingQueue<>();
        try {
            for (int i = 0; i < count; i++) {
                long start = i * partBytes;
                parts[i] = new Part(offset + start, dst.asSlice(start, Math.min(partBytes, length - start)), finished);
                parts[i].start();
            }
            awaitAll(parts, finished);
        } finally {
            for (Part part : parts) {
                if (part != null) {
                    part.cancel();
                }
            }
        }
    }

    private void awaitAll(Part[] parts, LinkedBlockingQueue<Part> finished) throws IOException {
        int left = parts.length;
        long tick = Math.max(TimeUnit.MILLISECONDS.toNanos(50), stallNanos / 4);
        while (left > 0) {
            Part part;
            try {
                part = finished.poll(tick, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("reading " + object.key() + " was interrupted");
            }
            if (part != null && part.settle()) {
                left--;
            }
            long now = System.nanoTime();
            for (Part each : parts) {
                each.checkStall(now);
                each.retryIfDue(now);
            }
        }
    }

    /**
     * One part of a read: its GET, and the GETs that resume it. Touched by the reading thread
     * only; the GETs report to it through the queue.
     */
    private final class Part {
        final long offset;
        final MemorySegment dst;
        final LinkedBlockingQueue<Part> finished;
        /** Bytes of {@code dst} filled by GETs that ended. */
        long filled;
        int attempts;
        RangeGet get;
        /** When to start the next GET ({@link System#nanoTime()}), or 0 while one runs or the part is done. */
        long retryAt;
        boolean complete;
        long startedNanos;

        Part(long offset, MemorySegment dst, LinkedBlockingQueue<Part> finished) {
            this.offset = offset;
            this.dst = dst;
            this.finished = finished;
        }

        void start() {
            startedNanos = System.nanoTime();
            attempts++;
            retryAt = 0;
            RangeGet started = store.get(object, offset + filled, dst.asSlice(filled));
            get = started;
            started.done.whenComplete((ignored, failure) -> finished.add(this));
        }

        /**
         * Looks at the GET that reported; returns true if the part is now complete.
         *
         * @throws IOException if the part cannot be completed
         */
        boolean settle() throws IOException {
            RangeGet ended = get;
            if (complete || ended == null || !ended.done.isDone()) {
                return false; // a report of a GET given up on earlier, already replaced
            }
            if (!ended.done.isCompletedExceptionally()) {
                if (LOG.isTraceEnabled()) {
                    LOG.trace("GET {} [{}, +{}) took {} ms", object.key(), offset, dst.byteSize(),
                            (System.nanoTime() - startedNanos) / 1_000_000);
                }
                complete = true;
                get = null;
                return true;
            }
            ended.cancel(); // from here on, received() is final
            Throwable failure = ended.done.exceptionNow();
            filled += ended.received();
            get = null;
            String what = "GET " + object.key() + " [" + (offset + filled) + ", " + (offset + dst.byteSize()) + ")";
            if (failure instanceof StaleVersionException stale) {
                throw stale;
            }
            if (failure instanceof software.amazon.awssdk.services.s3.model.S3Exception s3) {
                if (s3.statusCode() == 412) {
                    throw new StaleVersionException(object.version(), "it was replaced (412 on If-Match)");
                }
                if (s3.statusCode() == 404) {
                    throw new StaleVersionException(object.version(), "it was deleted");
                }
                if (s3.statusCode() == 416) {
                    throw new StaleVersionException(object.version(), "it is shorter now (416)");
                }
            }
            if (!ObjectStore.retryable(failure) || attempts >= Backoff.DEFAULT.attempts()) {
                IOException reported = ObjectStore.failure(what, failure);
                throw reported instanceof NoSuchFileException ? new StaleVersionException(object.version(),
                        "it was deleted") : reported;
            }
            Duration wait = Backoff.DEFAULT.before(attempts + 1);
            LOG.debug("{} failed ({}): resuming in {} ms", what, ObjectStore.describe(failure), wait.toMillis());
            retryAt = System.nanoTime() + Math.max(1, wait.toNanos());
            return false;
        }

        /** Gives up on a GET that has sent nothing for the stall timeout; the settle that follows resumes it. */
        void checkStall(long now) {
            RangeGet running = get;
            if (running != null && !running.done.isDone() && now - running.lastProgressNanos() > stallNanos) {
                LOG.info("GET {} from byte {} sent nothing for {} ms: replacing it", object.key(),
                        offset + filled + running.received(), TimeUnit.NANOSECONDS.toMillis(stallNanos));
                running.done.completeExceptionally(new StallException("GET " + object.key() + " stalled"));
                running.cancel();
            }
        }

        void retryIfDue(long now) {
            if (!complete && get == null && retryAt != 0 && now - retryAt >= 0) {
                start();
            }
        }

        void cancel() {
            RangeGet running = get;
            if (running != null) {
                running.cancel();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
