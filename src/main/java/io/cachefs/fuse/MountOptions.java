package io.cachefs.fuse;

/**
 * How to mount.
 *
 * @param fsName       the name shown as the mount's source in /proc/mounts and df
 * @param subtype      shown as the filesystem type {@code fuse.<subtype>}
 * @param workers      threads reading requests; a request waiting on a slow source holds one,
 *                     so keep more than the number of readers expected to miss at once
 * @param readAheadKb  the mount's kernel readahead window (bdi read_ahead_kb), or 0 to leave the
 *                     kernel's default of 128 KiB, which caps READ requests at 128 KiB
 * @param allowOther   let other users than root use the mount (services rarely run as root)
 * @param passthrough  offer FUSE passthrough to the kernel at INIT
 */
public record MountOptions(String fsName, String subtype, int workers, int readAheadKb,
                           boolean allowOther, boolean passthrough) {
    public MountOptions {
        if (workers < 1 || workers > 256) {
            throw new IllegalArgumentException("workers must be between 1 and 256, got " + workers);
        }
        if (readAheadKb < 0) {
            throw new IllegalArgumentException("readAheadKb must not be negative, got " + readAheadKb);
        }
        if (fsName.isEmpty() || fsName.contains(",") || subtype.contains(",")) {
            throw new IllegalArgumentException("fsName and subtype must be non-empty and contain no comma");
        }
    }

    /** 16 workers, 4 MiB readahead, allow_other, passthrough offered. */
    public static MountOptions defaults(String fsName) {
        return new MountOptions(fsName, fsName, 16, 4096, true, true);
    }

    public MountOptions withWorkers(int n) {
        return new MountOptions(fsName, subtype, n, readAheadKb, allowOther, passthrough);
    }

    public MountOptions withReadAheadKb(int kb) {
        return new MountOptions(fsName, subtype, workers, kb, allowOther, passthrough);
    }

    public MountOptions withPassthrough(boolean on) {
        return new MountOptions(fsName, subtype, workers, readAheadKb, allowOther, on);
    }
}
