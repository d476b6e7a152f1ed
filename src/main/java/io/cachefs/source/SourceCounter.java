package io.cachefs.source;

/** What a {@link CountingSource} counts of what reads cost the source, since start. */
public enum SourceCounter {
    /** Bytes returned by completed reads: the traffic the cache did not save, readahead included. */
    READ_BYTES,
    /** Completed reads. */
    READS,
    /** Files opened (each open of an object-storage mount is a request of its own). */
    OPENS
}
