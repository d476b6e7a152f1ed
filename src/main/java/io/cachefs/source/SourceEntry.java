package io.cachefs.source;

import java.util.Objects;

/**
 * What a source directory says about one entry: the attributes CacheFS reports through FUSE
 * (so the mirror looks like the source to {@code ls -l}, {@code du} and {@code stat}) and, for
 * a regular file, the {@link FileVersion} its cached blocks are keyed by.
 *
 * @param name last path segment; "" for the root
 * @param path relative path inside the source, "" for the root
 * @param mode full {@code st_mode}, file type bits included
 * @param blocks allocated 512-byte units; small for sparse files
 * @param versionTag for a regular file, the {@link FileVersion#tag()} of its version now
 */
public record SourceEntry(
        String name,
        String path,
        Kind kind,
        long size,
        long mtimeNanos,
        long ctimeNanos,
        long atimeNanos,
        int mode,
        long inode,
        int nlink,
        int uid,
        int gid,
        long blocks,
        String versionTag) {

    /** The kinds of entry the mirror distinguishes; devices, fifos and sockets are OTHER. */
    public enum Kind { FILE, DIRECTORY, SYMLINK, OTHER }

    public SourceEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(versionTag, "versionTag");
        if (!path.equals(name) && !path.endsWith("/" + name)) {
            throw new IllegalArgumentException("entry name " + name + " is not the last segment of " + path);
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + path);
        }
    }

    /** The version of this regular file whose bytes a read will return. */
    public FileVersion version() {
        if (kind != Kind.FILE) {
            throw new IllegalStateException(path + " is a " + kind + ", not a file: only files have versions");
        }
        return new FileVersion(path, size, mtimeNanos, versionTag);
    }
}
