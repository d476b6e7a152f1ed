package io.cachefs.source;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A {@link Source} whose reads share a {@link Throttle}: each read waits for its bytes before it
 * goes to the source. Metadata calls pass through unthrottled; they move almost no data.
 */
public final class ThrottledSource extends ForwardingSource {

    private final Throttle throttle;

    public ThrottledSource(Source source, Throttle throttle) {
        super(source);
        this.throttle = Objects.requireNonNull(throttle, "throttle");
    }

    @Override
    public SourceFile open(FileVersion file) throws IOException {
        return new ForwardingFile(delegate.open(file)) {
            @Override
            public void read(long offset, MemorySegment dst) throws IOException {
                try {
                    throttle.acquire(dst.byteSize());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for the source throttle to read "
                            + file.path());
                }
                handle.read(offset, dst);
            }
        };
    }
}
