package io.cachefs.source;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link Source} that passes metadata calls through to another: the base of decorators that
 * change only how files are read (a throttle, a counter).
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
    public List<SourceEntry> list(String dir) throws IOException {
        return delegate.list(dir);
    }

    @Override
    public String readlink(String path) throws IOException {
        return delegate.readlink(path);
    }
}
