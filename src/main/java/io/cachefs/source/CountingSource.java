package io.cachefs.source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link Source} that counts what its reads cost the source, for the daemon's metrics: bytes
 * returned ({@code cachefs_source_read_bytes_total}, the traffic the cache did not save), reads
 * and opens (each open of an object-storage mount is a request of its own). Only completed reads
 * count; a read that failed returned no bytes to anyone.
 */
public final class CountingSource extends ForwardingSource {

    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder reads = new LongAdder();
    private final LongAdder opens = new LongAdder();

    public CountingSource(Source source) {
        super(source);
    }

    /** Bytes returned by completed reads since this source was created. */
    public long bytesRead() {
        return bytesRead.sum();
    }

    /** Completed reads since this source was created. */
    public long reads() {
        return reads.sum();
    }

    /** Files opened since this source was created. */
    public long opens() {
        return opens.sum();
    }

    @Override
    public SourceFile open(FileVersion file) throws IOException {
        SourceFile handle = delegate.open(file);
        opens.increment();
        return new SourceFile() {
            @Override
            public FileVersion version() {
                return file;
            }

            @Override
            public void read(long offset, MemorySegment dst) throws IOException {
                handle.read(offset, dst);
                bytesRead.add(dst.byteSize());
                reads.increment();
            }

            @Override
            public void close() {
                handle.close();
            }
        };
    }
}
