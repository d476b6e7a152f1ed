package io.cachefs.fuse;

/**
 * The attributes of one node, as {@code stat(2)} shows them.
 *
 * @param ino    the inode number shown to programs (need not equal the FUSE node id)
 * @param mode   full st_mode: type bits and permission bits
 * @param blocks 512-byte blocks allocated, so that sparse files look sparse
 * @param atimeNanos access time, nanoseconds since the epoch; likewise mtime and ctime
 */
public record Attr(long ino, int mode, int nlink, int uid, int gid, long size, long blocks,
                   long atimeNanos, long mtimeNanos, long ctimeNanos) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFLNK = 0120000;

    public boolean isDirectory() {
        return (mode & S_IFMT) == S_IFDIR;
    }
}
