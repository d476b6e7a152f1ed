package io.cachefs.fuse;

/**
 * How to mount.
 *
 * @param fsName       the name shown as the mount's source in /proc/mounts and df
 * @param subtype      shown as the filesystem type {@code fuse.<subtype>}
 * @param workers      threads kept waiting for requests; more start while all are busy
 * @param maxWorkers   the most threads serving requests at once (each waiting request holds one)
 * @param readAheadKb  the mount's kernel readahead window (bdi read_ahead_kb), or 0 to leave the
 *                     kernel's default of 128 KiB, which caps READ requests at 128 KiB
 * @param allowOther   let other users than root use the mount (services rarely run as root)
 * @param passthrough  offer FUSE passthrough to the kernel at INIT
 */
public record MountOptions(String fsName, String subtype, int workers, int maxWorkers, int readAheadKb,
                           boolean allowOther, boolean passthrough) {
    /** Bounds the threads a storm of waiting requests can take; beyond it, requests queue in the kernel. */
    public static final int DEFAULT_MAX_WORKERS = 256;
    /**
     * Workers kept waiting for requests: enough for a burst of hits and readahead without
     * starting threads. More start while all are busy (a request waiting on the source holds one).
     */
    public static final int DEFAULT_WORKERS = 8;
    /**
     * Kernel readahead of 4 MiB: the kernel asks for up to 4 x 1 MiB ahead in parallel, which a
     * memory hit serves at once and a miss turns into block loads that the filesystem's own
     * readahead began.
     */
    public static final int DEFAULT_READ_AHEAD_KB = 4096;

    public MountOptions {
        if (workers < 1 || workers > maxWorkers) {
            throw new IllegalArgumentException("workers must be between 1 and maxWorkers (" + maxWorkers + "), got "
                    + workers);
        }
        if (readAheadKb < 0) {
            throw new IllegalArgumentException("readAheadKb must not be negative, got " + readAheadKb);
        }
        if (fsName.isEmpty() || fsName.contains(",") || subtype.contains(",")) {
            throw new IllegalArgumentException("fsName and subtype must be non-empty and contain no comma");
        }
    }

    /** {@link #defaults(String, String)} with the name as the subtype too. */
    public static MountOptions defaults(String fsName) {
        return defaults(fsName, fsName);
    }

    /**
     * The options the daemon mounts with: 8 idle workers (up to 256 busy), 4 MiB readahead,
     * allow_other, passthrough offered.
     */
    public static MountOptions defaults(String fsName, String subtype) {
        return new MountOptions(fsName, subtype, DEFAULT_WORKERS, DEFAULT_MAX_WORKERS, DEFAULT_READ_AHEAD_KB, true,
                true);
    }

    public MountOptions withWorkers(int idle) {
        return new MountOptions(fsName, subtype, idle, Math.max(idle, maxWorkers), readAheadKb, allowOther, passthrough);
    }

    public MountOptions withMaxWorkers(int max) {
        return new MountOptions(fsName, subtype, Math.min(workers, max), max, readAheadKb, allowOther, passthrough);
    }

    public MountOptions withReadAheadKb(int kb) {
        return new MountOptions(fsName, subtype, workers, maxWorkers, kb, allowOther, passthrough);
    }

    public MountOptions withPassthrough(boolean on) {
        return new MountOptions(fsName, subtype, workers, maxWorkers, readAheadKb, allowOther, on);
    }
}
