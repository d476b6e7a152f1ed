package io.cachefs.source;

import io.cachefs.stats.Counters;
import io.cachefs.stats.Counts;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * A {@link Source} that counts what its reads cost the source, for the daemon's metrics: bytes
 * returned ({@code cachefs_source_read_bytes_total}, the traffic the cache did not save), reads
 * and opens (each open of an object-storage mount is a request of its own). Only completed reads
 * count; a read that failed returned no bytes to anyone.
 */
public final class CountingSource extends ForwardingSource {

    private final Counters<SourceCounter> counters = new Counters<>(SourceCounter.class);

    public CountingSource(Source source) {
        super(source);
    }

    /** What reads cost the source since this source was created. */
    public Counts<SourceCounter> counts() {
        return counters.snapshot();
    }

    /** Bytes returned by completed reads since this source was created. */
    public long bytesRead() {
        return counters.get(SourceCounter.READ_BYTES);
    }

    @Override
    public SourceFile open(FileVersion file) throws IOException {
        SourceFile opened = delegate.open(file);
        counters.increment(SourceCounter.OPENS);
        return new ForwardingFile(opened) {
            @Override
            public void read(long offset, MemorySegment dst) throws IOException {
                handle.read(offset, dst);
                counters.add(SourceCounter.READ_BYTES, dst.byteSize());
                counters.increment(SourceCounter.READS);
            }
        };
    }
}
