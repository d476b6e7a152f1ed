package io.cachefs.admin;

/**
 * How one mount reads its source now, and what its adaptation learned.
 *
 * @param opens files opened on the source since start (counter): one per load stream, where an
 *     object-storage mount charges a request each
 * @param bytesPerSecond the aggregate load rate last measured over busy streams (gauge), 0 before
 *     the first measurement
 * @param streams load streams running now (gauge)
 * @param bytesInFlight bytes of blocks being loaded now (gauge)
 * @param targetStreams streams per file the adaptation uses now (gauge)
 * @param settled whether the adaptation has settled on {@code targetStreams}
 * @param abandonedLoads block loads given up on because the source did not answer within the
 *     source timeout (counter)
 */
public record SourceMetrics(long opens, long bytesPerSecond, int streams, long bytesInFlight, int targetStreams,
                            boolean settled, long abandonedLoads) {

    /** A mount that has not loaded anything yet. */
    public static final SourceMetrics NONE = new SourceMetrics(0, 0, 0, 0, 1, false, 0);
}
