package io.cachefs.fs;

import java.util.concurrent.atomic.LongAdder;

/** Totals of what the mount served, by where the bytes came from; read by the metrics endpoint. */
public final class ReadCounters {
    final LongAdder memoryBytes = new LongAdder();
    final LongAdder sourceBytes = new LongAdder();
    final LongAdder peerBytes = new LongAdder();
    final LongAdder passthroughOpens = new LongAdder();
    final LongAdder failedReads = new LongAdder();
    final LongAdder offlineOpens = new LongAdder();

    /** Bytes returned to readers from blocks already in memory. */
    public long memoryBytes() {
        return memoryBytes.sum();
    }

    /** Bytes returned to readers for the first time since they were loaded from the source. */
    public long sourceBytes() {
        return sourceBytes.sum();
    }

    /** Bytes returned to readers for the first time since they were fetched from a peer. */
    public long peerBytes() {
        return peerBytes.sum();
    }

    /** Opens handed to the kernel as FUSE passthrough (fully cached files). */
    public long passthroughOpens() {
        return passthroughOpens.sum();
    }

    /** Opens of fully cached files served while the source did not answer. */
    public long offlineOpens() {
        return offlineOpens.sum();
    }

    /** Reads answered EIO (the source failed or changed under an open file). */
    public long failedReads() {
        return failedReads.sum();
    }
}
