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

    /** 8 idle workers (up to 256 busy), 4 MiB readahead, allow_other, passthrough offered. */
    public static MountOptions defaults(String fsName) {
        return new MountOptions(fsName, fsName, 8, DEFAULT_MAX_WORKERS, 4096, true, true);
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
