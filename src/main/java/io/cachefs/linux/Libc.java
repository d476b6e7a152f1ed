package io.cachefs.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.List;

/**
 * Every libc call CacheFS makes, bound once through the FFM API, with the flag values they
 * take: the project's only native code. Linux x86-64 and aarch64 (the flag values and struct
 * layouts below are theirs).
 *
 * <p>Two styles. The raw calls ({@code open}, {@code read}, {@code writev}, {@code ioctl},
 * {@code mount}, ...) take an errno capture segment and return the result as libc does, so the
 * FUSE workers' hot paths allocate nothing: a worker keeps one capture segment and reads
 * {@link #errno} itself. The checked calls ({@code memfdCreate}, {@code pread}, {@code statx},
 * ...) throw an {@link IOException} that names the call and errno, for code where a failure is
 * an exception anyway.
 *
 * <p>Nothing is marked critical: the {@code /dev/fuse} read and a source {@code pread} can block
 * for as long as they like, and a critical downcall would stall the GC meanwhile.
 */
@SuppressWarnings("restricted") // native access is this class's whole job
public final class Libc {
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 02;
    public static final int O_ACCMODE = 03;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_TRUNC = 01000;
    public static final int O_NOFOLLOW = 0400000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_DIRECT = 040000;
    /** An unnamed file in the directory opened (with O_DIRECTORY, as the kernel defines it). */
    public static final int O_TMPFILE = 020000000 | O_DIRECTORY;
    /** access(2) mode bit: write permission. */
    public static final int W_OK = 2;

    public static final long MS_RDONLY = 1;
    public static final long MS_NOSUID = 2;
    public static final long MS_NODEV = 4;
    public static final long MS_NOEXEC = 8;
    public static final int MNT_DETACH = 2;

    private static final int MFD_CLOEXEC = 0x0001;
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_SHARED = 0x01;
    private static final int MADV_POPULATE_WRITE = 23;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    /** memfd names are limited to 249 bytes; longer ones fail with EINVAL. */
    private static final int MEMFD_NAME_MAX = 249;

    public static final ValueLayout.OfInt INT = JAVA_INT;

    /** struct iovec with the base as a plain 64-bit address, for pointers into slices of segments. */
    public static final StructLayout IOVEC_RAW = MemoryLayout.structLayout(
            JAVA_LONG.withName("iov_base"), JAVA_LONG.withName("iov_len"));

    /** struct iovec { void *iov_base; size_t iov_len; } */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len"));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle READ = bind("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), ERRNO);
    private static final MethodHandle PREAD = bind("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), ERRNO);
    private static final MethodHandle PWRITE = bind("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), ERRNO);
    private static final MethodHandle FLOCK = bind("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle WRITEV = bind("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle IOCTL = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MOUNT = bind("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), ERRNO);
    private static final MethodHandle UMOUNT2 = bind("umount2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle GETEUID = bind("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = bind("memfd_create",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle FTRUNCATE = bind("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    private static final MethodHandle FALLOCATE = bind("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), ERRNO);
    private static final MethodHandle MMAP = bind("mmap", FunctionDescriptor.of(
            ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    /** Best effort only (see {@link #populate}): no errno to capture, so no arena per call. */
    private static final MethodHandle MADVISE = bind("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    /** posix_fadvise returns the error number instead of setting errno. */
    private static final MethodHandle POSIX_FADVISE = bind("posix_fadvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle STRERROR = bind("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = bind("socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), ERRNO);
    /** posix_spawn returns the error number instead of setting errno. */
    private static final MethodHandle POSIX_SPAWN = bind("posix_spawn",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle WAITPID = bind("waitpid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
    private static final MethodHandle RECVMSG = bind("recvmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);

    private Libc() {
    }

    // ---- raw calls: the caller passes a capture segment and reads errno itself ---------------

    /** A segment that receives the errno of one call; one per thread on hot paths. */
    public static MemorySegment newCapture(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    public static int errno(MemorySegment capture) {
        return (int) ERRNO_HANDLE.get(capture, 0L);
    }

    public static int open(MemorySegment capture, String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(capture, arena.allocateFrom(path), flags, 0);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    public static int close(MemorySegment capture, int fd) {
        try {
            return (int) CLOSE.invokeExact(capture, fd);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    public static long read(MemorySegment capture, int fd, MemorySegment buffer, long count) {
        try {
            return (long) READ.invokeExact(capture, fd, buffer, count);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    public static long writev(MemorySegment capture, int fd, MemorySegment iovecs, int count) {
        try {
            return (long) WRITEV.invokeExact(capture, fd, iovecs, count);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    public static int ioctl(MemorySegment capture, int fd, long request, MemorySegment argument) {
        try {
            return (int) IOCTL.invokeExact(capture, fd, request, argument);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    public static int mount(MemorySegment capture, String source, String target, String type, long flags,
                            String data) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) MOUNT.invokeExact(capture, arena.allocateFrom(source), arena.allocateFrom(target),
                    arena.allocateFrom(type), flags, arena.allocateFrom(data));
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    public static int umount2(MemorySegment capture, String target, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) UMOUNT2.invokeExact(capture, arena.allocateFrom(target), flags);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int EINTR = 4;

    /**
     * A connected pair of Unix stream sockets, both inherited by children (no close-on-exec): one
     * end is for a child that passes a file descriptor back over it.
     */
    public static int[] socketPair() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            call("socketpair", (a, state) -> (int) SOCKETPAIR.invokeExact(state, AF_UNIX, SOCK_STREAM, 0, fds));
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    /**
     * Runs {@code argv} with environment {@code env} and waits for it; returns its exit status
     * (128 + the signal if a signal ended it). Unlike {@link ProcessBuilder}, the child inherits
     * every descriptor without close-on-exec, which is how a socket end reaches it.
     */
    public static int spawnAndWait(List<String> argv, List<String> env) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pid = arena.allocate(JAVA_INT);
            int error;
            try {
                error = (int) POSIX_SPAWN.invokeExact(pid, arena.allocateFrom(argv.getFirst()), MemorySegment.NULL,
                        MemorySegment.NULL, strings(arena, argv), strings(arena, env));
            } catch (Throwable t) {
                throw linkageFailure(t);
            }
            if (error != 0) {
                throw new ErrnoException("posix_spawn " + argv.getFirst(), error);
            }
            MemorySegment status = arena.allocate(JAVA_INT);
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            while (true) {
                int result;
                try {
                    result = (int) WAITPID.invokeExact(state, pid.get(JAVA_INT, 0), status, 0);
                } catch (Throwable t) {
                    throw linkageFailure(t);
                }
                if (result >= 0) {
                    break;
                }
                if (errno(state) != EINTR) {
                    throw new ErrnoException("waitpid", errno(state));
                }
            }
            int raw = status.get(JAVA_INT, 0);
            return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f);
        }
    }

    /** A NULL-terminated array of C strings. */
    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ADDRESS, values.size() + 1);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }

    /**
     * Receives one file descriptor sent over {@code socket} with SCM_RIGHTS (and one byte of
     * data), as fusermount3 sends the FUSE device it opened; -1 if the peer closed without one.
     *
     * <pre>
     * struct msghdr  { void *name; u32 namelen; (pad); struct iovec *iov; size_t iovlen;
     *                  void *control; size_t controllen; int flags; }            56 bytes
     * struct cmsghdr { size_t len; int level; int type; int fd; (pad) }          CMSG_SPACE(4) = 24
     * </pre>
     */
    public static int receiveFd(int socket) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(1);
            MemorySegment iov = arena.allocate(IOVEC);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, 1);
            MemorySegment control = arena.allocate(24, 8);
            MemorySegment message = arena.allocate(56, 8);
            message.set(ADDRESS, 16, iov);
            message.set(JAVA_LONG, 24, 1);
            message.set(ADDRESS, 32, control);
            message.set(JAVA_LONG, 40, control.byteSize());
            long received;
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            do {
                try {
                    received = (long) RECVMSG.invokeExact(state, socket, message, 0);
                } catch (Throwable t) {
                    throw linkageFailure(t);
                }
            } while (received < 0 && errno(state) == EINTR);
            if (received < 0) {
                throw new ErrnoException("recvmsg", errno(state));
            }
            boolean hasFd = message.get(JAVA_LONG, 40) >= 20 && control.get(JAVA_INT, 8) == SOL_SOCKET
                    && control.get(JAVA_INT, 12) == SCM_RIGHTS;
            return received > 0 && hasFd ? control.get(JAVA_INT, 16) : -1;
        }
    }

    /** {@code TIOCGWINSZ}: a terminal's size, as {@code struct winsize { u16 rows, cols, xpixel, ypixel; }}. */
    private static final long TIOCGWINSZ = 0x5413;

    /** The width of the terminal on {@code fd}, or 0 if it is not a terminal. */
    public static int terminalColumns(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(8);
            if (ioctl(newCapture(arena), fd, TIOCGWINSZ, size) != 0) {
                return 0;
            }
            return Short.toUnsignedInt(size.get(ValueLayout.JAVA_SHORT, 2));
        }
    }

    // ---- checked calls: failures are IOExceptions naming the call and errno ------------------

    /** A new anonymous memory file, close-on-exec, of size 0; the name shows in /proc/PID/fd. */
    public static int memfdCreate(String name) throws IOException {
        // keep the end of long names (the file name part): at most 4 UTF-8 bytes per char
        String shortName = name.length() > MEMFD_NAME_MAX / 4
                ? name.substring(name.length() - MEMFD_NAME_MAX / 4) : name;
        return call("memfd_create", (arena, state) -> (int) MEMFD_CREATE.invokeExact(
                state, arena.allocateFrom(shortName), MFD_CLOEXEC));
    }

    /** A new unnamed file, read-write by us only, close-on-exec, in the directory {@code dir} names. */
    public static int createUnnamed(String dir) throws IOException {
        return call("open O_TMPFILE " + dir, (arena, state) -> (int) OPEN.invokeExact(state,
                arena.allocateFrom(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    }

    /** Opens the directory {@code dir} (to name it later through /proc/self/fd), close-on-exec. */
    public static int openDirectory(Path dir) throws IOException {
        return call("open " + dir, (arena, state) -> (int) OPEN.invokeExact(state,
                arena.allocateFrom(dir.toString()), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
    }

    /** Creates {@code file}, which must not exist, for reading and writing by us only. */
    public static int createExclusive(Path file) throws IOException {
        return call("open " + file, (arena, state) -> (int) OPEN.invokeExact(state,
                arena.allocateFrom(file.toString()), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    }

    /** Opens {@code file} for reading, close-on-exec, refusing a final symlink. */
    public static int openReadOnly(Path file) throws IOException {
        return openReadOnly(file, false);
    }

    /** As {@link #openReadOnly(Path)}; with {@code direct}, O_DIRECT: reads bypass the page cache. */
    public static int openReadOnly(Path file, boolean direct) throws IOException {
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (direct ? O_DIRECT : 0);
        return call("open " + file, (arena, state) -> (int) OPEN.invokeExact(state,
                arena.allocateFrom(file.toString()), flags, 0));
    }

    /** Opens the existing {@code file} for reading and writing, close-on-exec, refusing a final symlink. */
    public static int openReadWrite(Path file) throws IOException {
        return call("open " + file, (arena, state) -> (int) OPEN.invokeExact(state,
                arena.allocateFrom(file.toString()), O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0));
    }

    /** Opens {@code file} for reading and writing, creating it (for us only) if it is missing. */
    public static int openOrCreate(Path file) throws IOException {
        return call("open " + file, (arena, state) -> (int) OPEN.invokeExact(state,
                arena.allocateFrom(file.toString()), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    }

    /**
     * Takes an exclusive flock(2) on {@code fd} without waiting. Returns false if another open
     * file description holds one (another process, or another open of the file in this one).
     * The lock goes when the descriptor closes, and with the process however it ends.
     */
    public static boolean tryLockExclusive(int fd) throws IOException {
        try {
            call("flock", (arena, state) -> (int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB));
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == Errno.EAGAIN) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Writes all of {@code src} at {@code offset} (pwrite, retried until done). Unlike a
     * FileChannel's, this write is not undone by an interrupt of the calling thread: an
     * interrupt closes a FileChannel for every thread that shares it.
     */
    public static void pwrite(int fd, MemorySegment src, long offset) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            for (long done = 0; done < src.byteSize(); ) {
                long n = (long) PWRITE.invokeExact(state, fd, src.asSlice(done), src.byteSize() - done,
                        offset + done);
                if (n > 0) {
                    done += n;
                } else if (n == 0) {
                    throw new IOException("pwrite wrote nothing");
                } else if (errno(state) != Errno.EINTR) {
                    throw new ErrnoException("pwrite", errno(state));
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("unexpected from pwrite", t);
        }
    }

    public static void ftruncate(int fd, long size) throws IOException {
        call("ftruncate", (arena, state) -> (int) FTRUNCATE.invokeExact(state, fd, size));
    }

    /**
     * Reads up to {@code dst.byteSize()} bytes at {@code offset} straight into {@code dst} (no
     * buffer in between), retrying when a signal interrupts the call. Returns the bytes read,
     * 0 at the end of the file.
     *
     * @throws InterruptedIOException if the calling thread was interrupted meanwhile
     */
    public static long pread(int fd, MemorySegment dst, long offset) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            while (true) {
                long n = (long) PREAD.invokeExact(state, fd, dst, dst.byteSize(), offset);
                if (n >= 0) {
                    return n;
                }
                int errno = errno(state);
                if (errno != Errno.EINTR) {
                    throw new IOException("pread failed: " + describe(errno) + " (errno " + errno + ")");
                }
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted while reading");
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("unexpected from pread", t);
        }
    }

    /** Tells the kernel that the pages of a range read once will not be read again. Best effort. */
    public static void dropPageCache(int fd, long offset, long length) {
        try {
            int ignored = (int) POSIX_FADVISE.invokeExact(fd, offset, length, POSIX_FADV_DONTNEED);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    /** Frees the pages of {@code [offset, offset + length)}; the file keeps its size. */
    public static void punchHole(int fd, long offset, long length) throws IOException {
        call("fallocate(PUNCH_HOLE)", (arena, state) -> (int) FALLOCATE.invokeExact(
                state, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length));
    }

    /**
     * Maps {@code size} bytes of {@code fd} shared and writable. The mapping is unmapped when
     * {@code arena} closes, and any later access through it fails instead of crashing the JVM.
     */
    public static MemorySegment mapShared(int fd, long size, Arena arena) throws IOException {
        MemorySegment[] address = new MemorySegment[1];
        call("mmap", (call, state) -> {
            address[0] = (MemorySegment) MMAP.invokeExact(
                    state, MemorySegment.NULL, size, PROT_READ_WRITE, MAP_SHARED, fd, 0L);
            return address[0].address() == -1L ? -1 : 0; // MAP_FAILED
        });
        return address[0].reinterpret(size, arena, mapping -> unmap(mapping, size));
    }

    /**
     * Allocates and maps the pages of a part of a shared mapping in one call, before a loader
     * writes them (MADV_POPULATE_WRITE, Linux 5.14). Otherwise every 4 KiB page written costs a
     * page fault: a quarter of a million faults per GiB loaded. Best effort: an older kernel just
     * faults as before.
     */
    public static void populate(MemorySegment range) {
        try {
            int ignored = (int) MADVISE.invokeExact(range, range.byteSize(), MADV_POPULATE_WRITE);
        } catch (Throwable t) {
            throw linkageFailure(t);
        }
    }

    /** Bytes of memory the file holds (st_blocks), which falls when holes are punched. */
    public static long allocatedBytes(int fd) throws IOException {
        return Statx.of(fd).blocks() * 512;
    }

    public static void close(int fd) throws IOException {
        call("close", (arena, state) -> (int) CLOSE.invokeExact(state, fd));
    }

    /** The text of an errno value, as strerror(3) gives it. */
    public static String describe(int errno) {
        try {
            MemorySegment message = (MemorySegment) STRERROR.invokeExact(errno);
            return message.reinterpret(Integer.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            return "unknown error";
        }
    }

    /** One native call: gets an arena for its arguments and the errno capture segment. */
    @FunctionalInterface
    interface NativeCall {
        int invoke(Arena arena, MemorySegment callState) throws Throwable;
    }

    /** Runs {@code call}; a negative result becomes an IOException naming it and errno. */
    static int call(String what, NativeCall call) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int result = call.invoke(arena, state);
            if (result < 0) {
                int errno = errno(state);
                throw new ErrnoException(what, errno);
            }
            return result;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("unexpected from " + what, t); // invokeExact's throws clause
        }
    }

    private static void unmap(MemorySegment mapping, long size) {
        try {
            int result = (int) MUNMAP.invokeExact(mapping, size);
            // munmap of a range we mapped cannot fail; if it did, the memory would merely leak
            assert result == 0 : "munmap failed";
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    static Linker.Option errnoCapture() {
        return ERRNO;
    }

    private static Error linkageFailure(Throwable t) {
        return t instanceof Error e ? e : new AssertionError("downcall failed", t);
    }
}
