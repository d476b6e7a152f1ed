package io.cachefs.source;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link Source} whose reads share a {@link Throttle}: each read waits for its bytes before it
 * goes to the source. Metadata calls pass through unthrottled; they move almost no data.
 */
public final class ThrottledSource implements Source {

    private final Source source;
    private final Throttle throttle;

    public ThrottledSource(Source source, Throttle throttle) {
        this.source = Objects.requireNonNull(source, "source");
        this.throttle = Objects.requireNonNull(throttle, "throttle");
    }

    @Override
    public Optional<SourceEntry> stat(String path) throws IOException {
        return source.stat(path);
    }

    @Override
    public List<SourceEntry> list(String dir) throws IOException {
        return source.list(dir);
    }

    @Override
    public String readlink(String path) throws IOException {
        return source.readlink(path);
    }

    @Override
    public void read(FileVersion file, long offset, MemorySegment dst) throws IOException {
        try {
            throttle.acquire(dst.byteSize());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the source throttle to read "
                    + file.path());
        }
        source.read(file, offset, dst);
    }
}
