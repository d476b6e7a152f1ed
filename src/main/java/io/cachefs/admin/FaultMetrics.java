package io.cachefs.admin;

/**
 * How a mount is riding out faults: counters of what failed or was served from memory because the
 * source did not answer, and the FUSE workers (which grow while requests wait).
 *
 * @param failedReads reads answered EIO: the source failed, timed out or changed under an open file
 * @param offlineOpens opens of fully cached files served while the source did not answer
 * @param staleMetadataAnswers lookups and listings answered as last seen because the source did not answer
 * @param unansweredSourceCalls stats and listings the source did not answer in time, or failed
 * @param sourceReachable false while the source does not answer
 * @param workers FUSE workers running now
 * @param workersPeak the most FUSE workers that ran at once
 * @param workersDied FUSE workers stopped by an unexpected error (each is a bug, and logged)
 */
public record FaultMetrics(long failedReads, long offlineOpens, long staleMetadataAnswers, long unansweredSourceCalls,
                           boolean sourceReachable, int workers, int workersPeak, long workersDied) {

    static final FaultMetrics NONE = new FaultMetrics(0, 0, 0, 0, true, 0, 0, 0);
}
