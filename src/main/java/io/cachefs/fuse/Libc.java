package io.cachefs.fuse;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls the FUSE layer needs, bound once through the FFM API.
 *
 * <p>Every call that can fail takes an {@link Errno#captureSegment() errno capture segment} so the
 * caller reads the errno of exactly its own call; callers on the hot path keep one segment per
 * thread instead of allocating. Nothing here is marked critical: the {@code /dev/fuse} read blocks
 * for as long as the mount is idle, and a critical downcall would stall the GC meanwhile.
 */
final class Libc {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;

    static final java.lang.foreign.ValueLayout.OfInt INT = JAVA_INT;

    static final long MS_RDONLY = 1;
    static final long MS_NOSUID = 2;
    static final long MS_NODEV = 4;
    static final int MNT_DETACH = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** struct iovec with the base as a plain 64-bit address, for pointers into slices of segments. */
    static final StructLayout IOVEC_RAW = MemoryLayout.structLayout(
            JAVA_LONG.withName("iov_base"), JAVA_LONG.withName("iov_len"));

    /** struct iovec { void *iov_base; size_t iov_len; } */
    static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len"));

    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle READ = bind("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle WRITEV = bind("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle IOCTL = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MOUNT = bind("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), ERRNO);
    private static final MethodHandle UMOUNT2 = bind("umount2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle GETEUID = bind("geteuid", FunctionDescriptor.of(JAVA_INT));

    private Libc() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** A segment that receives the errno of one call; one per thread on hot paths. */
    static MemorySegment newCapture(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO_HANDLE.get(capture, 0L);
    }

    static int open(MemorySegment capture, String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(capture, arena.allocateFrom(path), flags, 0);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    static int close(MemorySegment capture, int fd) {
        try {
            return (int) CLOSE.invokeExact(capture, fd);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    static long read(MemorySegment capture, int fd, MemorySegment buffer, long count) {
        try {
            return (long) READ.invokeExact(capture, fd, buffer, count);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    static long writev(MemorySegment capture, int fd, MemorySegment iovecs, int count) {
        try {
            return (long) WRITEV.invokeExact(capture, fd, iovecs, count);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    static int ioctl(MemorySegment capture, int fd, long request, MemorySegment argument) {
        try {
            return (int) IOCTL.invokeExact(capture, fd, request, argument);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    static int mount(MemorySegment capture, String source, String target, String type, long flags, String data) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) MOUNT.invokeExact(capture, arena.allocateFrom(source), arena.allocateFrom(target),
                    arena.allocateFrom(type), flags, arena.allocateFrom(data));
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    static int umount2(MemorySegment capture, String target, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) UMOUNT2.invokeExact(capture, arena.allocateFrom(target), flags);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    private static Error linkageFailure(Throwable t) {
        return t instanceof Error e ? e : new AssertionError("downcall failed", t);
    }

}
