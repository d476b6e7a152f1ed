package io.cachefs.source;

/**
 * One version of one source file: the unit that cached blocks, peer requests and source reads
 * are keyed by. A source file whose size, mtime or tag changes is a new version, so blocks of the
 * old version simply stop being reachable: no read ever mixes bytes of two versions.
 *
 * @param path relative path inside the source, '/'-separated, no leading slash, never "..".
 * @param size length in bytes
 * @param mtimeNanos last modification time, nanoseconds since the epoch
 * @param tag what else the source knows that tells two versions apart when size and mtime are
 *     the same (a replacement by {@code cp -p} or {@code rsync -t}, a mount with second-granular
 *     mtimes): the change time on a folder or NFS ({@code c} and nanoseconds: nobody can set it,
 *     and every member of a peer group sees the same one), the ETag on an object store; empty
 *     where the source has nothing more to say. Opaque to everyone but the source, printable
 *     ASCII, at most {@link #MAX_TAG_LENGTH} characters, since it travels on the peer wire.
 */
public record FileVersion(String path, long size, long mtimeNanos, String tag) {

    /** ETags are 32 hex digits, or that plus "-N" for multipart uploads; room for any store's. */
    public static final int MAX_TAG_LENGTH = 200;

    public FileVersion {
        if (path == null || path.isEmpty() || path.startsWith("/")) {
            throw new IllegalArgumentException("a file version needs a relative path, got: " + path);
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + path);
        }
        if (tag == null || tag.length() > MAX_TAG_LENGTH || !tag.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("a version tag is up to " + MAX_TAG_LENGTH
                    + " printable characters without spaces, got: " + tag);
        }
    }

    /** A version told apart by size and mtime alone. */
    public FileVersion(String path, long size, long mtimeNanos) {
        this(path, size, mtimeNanos, "");
    }

    /** The tag of a version on a folder or NFS: its change time. */
    public static String changeTimeTag(long ctimeNanos) {
        return "c" + ctimeNanos;
    }
}
