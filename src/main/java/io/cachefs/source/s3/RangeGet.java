package io.cachefs.source.s3;

import io.cachefs.source.FileVersion;
import io.cachefs.source.StaleVersionException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * One ranged GET of one object version, written as it arrives straight into a slice of the
 * cache's memory: each buffer the SDK hands over is copied once, into {@code dst} at its place;
 * no copy of the body is ever held on the heap.
 *
 * <p><b>Versions.</b> The GET carries {@code If-Match} with the version's ETag, so the store
 * answers 412 rather than bytes of another version; the answer is checked too (its ETag, and the
 * object size in its Content-Range), for stores that ignore the condition. Any mismatch fails
 * the GET with {@link StaleVersionException}.
 *
 * <p><b>Cancelling.</b> {@link #cancel} returns only once no more bytes can be written to
 * {@code dst}: writes and the cancel take the same lock. That is what lets a read give up on a
 * GET and return, with the memory free for reuse, while the SDK is still busy with it.
 *
 * <p>{@link #received()} bytes at the start of {@code dst} are valid however the GET ends: a
 * failed one is resumed from there by a new GET.
 */
final class RangeGet {

    private final String key;
    private final FileVersion version;
    private final long from;
    private final MemorySegment dst;
    /** What the caller waits on: completes normally when all of {@code dst} is filled. */
    final CompletableFuture<Void> done = new CompletableFuture<>();
    /** Guarded by this; {@code received} and {@code lastProgressNanos} are also read without it. */
    private volatile long received;
    private volatile long lastProgressNanos;
    private boolean cancelled;
    private Subscription subscription;
    private CompletableFuture<?> call;

    RangeGet(ObjectVersion object, long from, MemorySegment dst) {
        this.key = object.key();
        this.version = object.version();
        this.from = from;
        this.dst = dst;
        this.lastProgressNanos = System.nanoTime();
    }

    void start(S3AsyncClient client, String bucket) {
        long last = from + dst.byteSize() - 1;
        String etag = version.tag();
        CompletableFuture<?> started = client.getObject(b -> {
            b.bucket(bucket).key(key).range("bytes=" + from + "-" + last);
            if (!etag.isEmpty()) {
                b.ifMatch("\"" + etag + "\"");
            }
        }, new Transformer());
        started.whenComplete((ignored, failure) -> {
            if (failure != null) {
                done.completeExceptionally(ObjectStore.unwrap(failure));
            }
        });
        synchronized (this) {
            call = started;
            if (cancelled) {
                started.cancel(true);
            }
        }
    }

    /** Bytes written to the start of {@code dst} so far. */
    long received() {
        return received;
    }

    /** When the last bytes arrived (or the GET began), in {@link System#nanoTime()}. */
    long lastProgressNanos() {
        return lastProgressNanos;
    }

    /** Gives up on the GET; once this returns, nothing more is written to {@code dst}. */
    void cancel() {
        Subscription s;
        CompletableFuture<?> c;
        synchronized (this) {
            if (cancelled) {
                return;
            }
            cancelled = true;
            s = subscription;
            c = call;
        }
        if (s != null) {
            s.cancel(); // closes the connection: a half-read body cannot go back to the pool
        }
        if (c != null) {
            c.cancel(true);
        }
        done.completeExceptionally(new IOException("GET " + key + " cancelled"));
    }

    private void check(GetObjectResponse response) throws StaleVersionException {
        String etag = ObjectStore.unquoted(response.eTag());
        if (!version.tag().isEmpty() && !etag.isEmpty() && !etag.equals(version.tag())) {
            throw new StaleVersionException(version, "its ETag is now " + etag);
        }
        String range = response.contentRange(); // bytes FIRST-LAST/TOTAL
        int slash = range == null ? -1 : range.lastIndexOf('/');
        if (slash < 0) {
            if (from != 0 || dst.byteSize() != version.size() || response.contentLength() != version.size()) {
                throw new StaleVersionException(version, "the store answered a ranged GET with the whole object ("
                        + response.contentLength() + " bytes)");
            }
            return;
        }
        String total = range.substring(slash + 1).strip();
        if (!total.equals(Long.toString(version.size()))) {
            throw new StaleVersionException(version, "its size is now " + total);
        }
        if (version.tag().isEmpty() && response.lastModified() != null
                && response.lastModified().getEpochSecond() * 1_000_000_000L != version.mtimeNanos()) {
            throw new StaleVersionException(version, "it was modified at " + response.lastModified());
        }
    }

    /** Turns the SDK's response into writes into {@code dst}. One per GET: the SDK's own retries are off. */
    private final class Transformer implements AsyncResponseTransformer<GetObjectResponse, Void> {
        private final CompletableFuture<Void> result = new CompletableFuture<>();

        @Override
        public CompletableFuture<Void> prepare() {
            return result;
        }

        @Override
        public void onResponse(GetObjectResponse response) {
            try {
                check(response);
            } catch (StaleVersionException e) {
                fail(e);
            }
        }

        @Override
        public void onStream(SdkPublisher<ByteBuffer> publisher) {
            publisher.subscribe(new Writer());
        }

        @Override
        public void exceptionOccurred(Throwable error) {
            fail(error);
        }

        void fail(Throwable error) {
            result.completeExceptionally(error);
            done.completeExceptionally(ObjectStore.unwrap(error));
        }

        /** Copies each buffer into place; asks for everything at once, since each copy is quick. */
        private final class Writer implements Subscriber<ByteBuffer> {
            /** {@code dst} as a buffer, made once per GET rather than a segment per arriving buffer. */
            private ByteBuffer target;

            @Override
            public void onSubscribe(Subscription s) {
                boolean stop;
                synchronized (RangeGet.this) {
                    subscription = s;
                    stop = cancelled || result.isDone();
                }
                if (stop) {
                    s.cancel();
                    return;
                }
                target = dst.asByteBuffer();
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(ByteBuffer bytes) {
                synchronized (RangeGet.this) {
                    if (cancelled || result.isDone()) {
                        return;
                    }
                    if (bytes.remaining() > target.remaining()) {
                        subscription.cancel();
                        fail(new IOException("GET " + key + " sent more than the " + dst.byteSize()
                                + " bytes asked for"));
                        return;
                    }
                    target.put(bytes);
                    received = target.position();
                }
                lastProgressNanos = System.nanoTime();
            }

            @Override
            public void onError(Throwable error) {
                fail(error);
            }

            @Override
            public void onComplete() {
                if (received != dst.byteSize()) {
                    fail(new IOException("GET " + key + " ended after " + received + " of " + dst.byteSize()
                            + " bytes"));
                    return;
                }
                result.complete(null);
                done.complete(null);
            }
        }
    }
}
