package io.cachefs.source.s3;

import java.nio.file.NoSuchFileException;

/** The rules that turn keys into paths: which names can be path segments, and what a path's name and inode are. */
final class KeyPaths {
    private KeyPaths() {
    }

    /** Whether {@code name} (one segment) can be shown: not empty, ".", "..", and without '/' or NUL. */
    static boolean isName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0
                && name.indexOf('\0') < 0;
    }

    /**
     * Rejects what is not a relative path of such names, as a missing file (the FUSE boundary
     * answers ENOENT); "" is the root.
     */
    static void checkPath(String path) throws NoSuchFileException {
        if (path == null) {
            throw new NoSuchFileException("null", null, "no path given");
        }
        if (path.isEmpty()) {
            return;
        }
        for (String segment : path.split("/", -1)) {
            if (!isName(segment)) {
                throw new NoSuchFileException(path.replace('\0', '?'), null, "not a path of the bucket's keys");
            }
        }
    }

    static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /**
     * A stable inode number for {@code path}: the same on every mount of the bucket, so tools that
     * compare inodes (tar, rsync, du's hard-link check) see one file once; 1 is the root's.
     */
    static long inodeOf(String path) {
        if (path.isEmpty()) {
            return 1;
        }
        long h = 0xcbf29ce484222325L; // 64-bit FNV-1a over the UTF-16 units: cheap, well spread
        for (int i = 0; i < path.length(); i++) {
            h = (h ^ path.charAt(i)) * 0x100000001b3L;
        }
        h &= Long.MAX_VALUE;
        return h <= 1 ? h + 2 : h;
    }
}
