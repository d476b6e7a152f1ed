package io.cachefs.warmup;

import java.nio.file.Path;

/**
 * One file to warm.
 *
 * @param path its real path, inside {@code mount}
 * @param mount the cachefs mount it is in
 * @param size its length
 */
public record WarmupFile(Path path, Path mount, long size) {
    /** The path as the report shows it: relative to its mount. */
    public String shown() {
        return mount.relativize(path).toString();
    }
}
