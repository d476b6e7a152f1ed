package io.cachefs.cache;

/**
 * What the cache's loading is doing now, and what it learned about the source.
 *
 * @param streams load streams running now (each one holds at most one block in flight)
 * @param bytesInFlight bytes of blocks being loaded now
 * @param targetStreams the streams per file the adaptation uses now
 * @param settled whether the adaptation has settled on {@code targetStreams}
 * @param measuredBytesPerSecond the aggregate load rate last measured over busy streams, 0 if
 *     none yet
 */
public record LoadStats(int streams, long bytesInFlight, int targetStreams, boolean settled,
                        long measuredBytesPerSecond) {}
