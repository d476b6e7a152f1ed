package io.cachefs.fs;

import java.time.Duration;

/**
 * How the mount serves files.
 *
 * @param passthrough     hand fully cached files to the kernel (FUSE passthrough)
 * @param keepPageCache   let the kernel keep pages of files served by READ across opens; a file
 *                        then may sit in memory twice (cache block + page cache). Without it,
 *                        reads use direct I/O where the kernel still allows mmap of such files
 * @param readaheadBlocks blocks loaded ahead of a sequential reader
 * @param wholeFileFromBytes an open of a file at least this large (and not cached yet) loads all
 *                        of it in the background; {@code Long.MAX_VALUE} for never
 * @param metadataTimeout how long the kernel trusts names and attributes; also the namespace's
 *                        TTL, so a source change shows within twice this
 */
public record CacheFsOptions(boolean passthrough, boolean keepPageCache, int readaheadBlocks,
                             long wholeFileFromBytes, Duration metadataTimeout) {
    /** Half a second each for the kernel and the namespace: a source change shows within 1 s. */
    public static final Duration DEFAULT_METADATA_TIMEOUT = Duration.ofMillis(500);
}
