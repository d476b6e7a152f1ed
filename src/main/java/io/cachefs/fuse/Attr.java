package io.cachefs.fuse;

import io.cachefs.linux.FileMode;

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
    public boolean isDirectory() {
        return FileMode.isDirectory(mode);
    }
}
