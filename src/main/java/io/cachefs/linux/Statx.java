package io.cachefs.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * What {@code statx(2)} says of a file: the attributes that identify one version of it (inode,
 * size, mtime, ctime) and the allocated blocks, which java.nio's attribute views do not expose.
 * statx has the same layout on every architecture, unlike {@code struct stat}.
 *
 * @param mode full {@code st_mode}, type bits included ({@link FileMode})
 * @param blocks allocated 512-byte units
 */
public record Statx(long inode, int mode, long size, long blocks, long mtimeNanos, long ctimeNanos) {

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STATX_BASIC_STATS = 0x7ff;

    /**
     * struct statx, 256 bytes (linux/stat.h): stx_mode u16 at 28, stx_ino at 32, stx_size at 40,
     * stx_blocks at 48, timestamps of 16 bytes each (s64 seconds, u32 nanoseconds) with
     * stx_ctime at 96 and stx_mtime at 112.
     */
    private static final long SIZE = 256;
    private static final long MODE = 28;
    private static final long INO = 32;
    private static final long FILE_SIZE = 40;
    private static final long BLOCKS = 48;
    private static final long CTIME = 96;
    private static final long MTIME = 112;

    private static final MethodHandle STATX = Libc.bind("statx", FunctionDescriptor.of(
            JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), Libc.errnoCapture());

    /** The open file {@code fd}: what a handle reads now, wherever its name has gone. */
    public static Statx of(int fd) throws IOException {
        return call("fstat", fd, "", AT_EMPTY_PATH);
    }

    /** The entry at {@code path}; a final symlink is described, not followed. */
    public static Statx ofLink(Path path) throws IOException {
        return call("stat " + path, AT_FDCWD, path.toString(), AT_SYMLINK_NOFOLLOW);
    }

    public boolean isRegularFile() {
        return FileMode.isRegularFile(mode);
    }

    private static Statx call(String what, int dirFd, String path, int flags) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path);
            MemorySegment buf = arena.allocate(SIZE, 8);
            Libc.call(what, (ignored, state) -> (int) STATX.invokeExact(state, dirFd, name, flags,
                    STATX_BASIC_STATS, buf));
            return new Statx(buf.get(JAVA_LONG, INO), Short.toUnsignedInt(buf.get(JAVA_SHORT, MODE)),
                    buf.get(JAVA_LONG, FILE_SIZE), buf.get(JAVA_LONG, BLOCKS), nanos(buf, MTIME), nanos(buf, CTIME));
        }
    }

    private static long nanos(MemorySegment buf, long offset) {
        return buf.get(JAVA_LONG, offset) * 1_000_000_000L + Integer.toUnsignedLong(buf.get(JAVA_INT, offset + 8));
    }
}
