package io.cachefs.fs;

/** What the filesystem counts of what it served, since start; {@link CacheFs#counts()} holds the totals. */
public enum ReadCounter {
    /** Bytes returned to readers from blocks already in memory. */
    MEMORY_BYTES,
    /** Bytes returned to readers for the first time since they were fetched from a peer. */
    PEER_BYTES,
    /** Bytes returned to readers for the first time since they were loaded from the source. */
    SOURCE_BYTES,
    /** Opens handed to the kernel as FUSE passthrough (fully cached files). */
    PASSTHROUGH_OPENS,
    /** Opens of fully cached files served while the source did not answer. */
    OFFLINE_OPENS,
    /** Reads answered EIO (the source failed, timed out or changed under an open file). */
    FAILED_READS
}
