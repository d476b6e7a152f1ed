package io.cachefs.admin;

/**
 * One mount the admin endpoint reports on. The daemon implements it over its cache and
 * filesystem; the endpoint calls {@link #metrics()} once per mount for each scrape or status
 * request, from a request thread, so it must be thread-safe and cheap.
 */
public interface MonitoredMount {

    /** Where the cache mount is mounted; the {@code mount} tag of every metric. */
    String mountPoint();

    /** The slow directory the mount mirrors. */
    String source();

    /** The mount's counters now. May throw; the request asking for it then answers 500. */
    MountMetrics metrics();

    /** The files it holds, for {@code /status} only (a scrape does not ask). */
    default MountContents contents() {
        return MountContents.NONE;
    }

    /** How its preload is going, for {@code /status}. */
    default PreloadStatus preload() {
        return PreloadStatus.NONE;
    }
}
