package io.cachefs.source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link Source} that passes metadata calls through to another: the base of decorators that
 * change only how files are read (a throttle, a counter). Such a decorator's {@code open} wraps
 * the delegate's handle in a {@link ForwardingFile} that does its part around {@code read}.
 */
public abstract class ForwardingSource implements Source {

    protected final Source delegate;

    protected ForwardingSource(Source delegate) {
        this.delegate = Objects.requireNonNull(delegate, "source");
    }

    @Override
    public Optional<SourceEntry> stat(String path) throws IOException {
        return delegate.stat(path);
    }

    @Override
    public int firstStreams() {
        return delegate.firstStreams();
    }

    @Override
    public List<SourceEntry> list(String dir) throws IOException {
        return delegate.list(dir);
    }

    @Override
    public String readlink(String path) throws IOException {
        return delegate.readlink(path);
    }

    /** A {@link SourceFile} that passes every call to another; a decorator overrides {@link #read}. */
    public abstract static class ForwardingFile implements SourceFile {

        protected final SourceFile handle;

        protected ForwardingFile(SourceFile handle) {
            this.handle = Objects.requireNonNull(handle, "handle");
        }

        @Override
        public FileVersion version() {
            return handle.version();
        }

        @Override
        public void read(long offset, MemorySegment dst) throws IOException {
            handle.read(offset, dst);
        }

        @Override
        public void close() {
            handle.close();
        }
    }
}
