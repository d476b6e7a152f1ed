package io.cachefs.linux;

/** The file type bits of {@code st_mode} (sys/stat.h). */
public final class FileMode {
    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFLNK = 0120000;

    private FileMode() {
    }

    public static boolean isRegularFile(int mode) {
        return (mode & S_IFMT) == S_IFREG;
    }

    public static boolean isDirectory(int mode) {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public static boolean isSymlink(int mode) {
        return (mode & S_IFMT) == S_IFLNK;
    }
}
