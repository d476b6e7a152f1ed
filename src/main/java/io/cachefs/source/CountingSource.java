package io.cachefs.source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link Source} that counts the bytes its reads returned, for the daemon's
 * {@code cachefs_source_read_bytes_total} metric: how much traffic the cache did not save. Only
 * completed reads count; a read that failed returned no bytes to anyone.
 */
public final class CountingSource implements Source {

    private final Source source;
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder reads = new LongAdder();

    public CountingSource(Source source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    /** Bytes returned by completed reads since this source was created. */
    public long bytesRead() {
        return bytesRead.sum();
    }

    /** Completed reads since this source was created. */
    public long reads() {
        return reads.sum();
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
        source.read(file, offset, dst);
        bytesRead.add(dst.byteSize());
        reads.increment();
    }
}
