package io.cachefs.source;

/**
 * One version of one source file: the unit that cached blocks, peer requests and source reads
 * are keyed by. A source file whose size or mtime changes is a new version, so blocks of the old
 * version simply stop being reachable: no read ever mixes bytes of two versions.
 *
 * @param path relative path inside the source, '/'-separated, no leading slash, never "..".
 * @param size length in bytes
 * @param mtimeNanos last modification time, nanoseconds since the epoch
 */
public record FileVersion(String path, long size, long mtimeNanos) {
    public FileVersion {
        if (path == null || path.isEmpty() || path.startsWith("/")) {
            throw new IllegalArgumentException("a file version needs a relative path, got: " + path);
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + path);
        }
    }
}
