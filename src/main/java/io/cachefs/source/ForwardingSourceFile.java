package io.cachefs.source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A {@link SourceFile} that passes every call to another: the handle of a
 * {@link ForwardingSource} decorator, which overrides {@link #read} to do its part around it.
 */
public abstract class ForwardingSourceFile implements SourceFile {

    protected final SourceFile handle;

    protected ForwardingSourceFile(SourceFile handle) {
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
