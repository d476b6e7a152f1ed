package io.cachefs.fs;

import io.cachefs.source.FileVersion;

/**
 * What a kernel inode of the mount stands for: a path, and for a regular file also the version
 * it showed when looked up. A file that changes in the source gets a new key, so the kernel sees
 * a new inode: opens made before keep reading their version (or fail cleanly), opens made after
 * get the new one, and the two never share page cache or a passthrough backing file.
 *
 * @param version the file's version, or null for directories, symlinks and other entries
 */
public record NodeKey(String path, FileVersion version) {
    static final NodeKey ROOT = new NodeKey("", null);

    String child(String name) {
        return path.isEmpty() ? name : path + "/" + name;
    }
}
