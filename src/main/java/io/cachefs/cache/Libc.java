package io.cachefs.cache;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * The few libc calls the block cache needs, through the FFM API: the only native code of the
 * package. Every call that can fail turns errno into an {@link IOException} naming the call.
 * Linux x86-64 and aarch64 only (flag values and the {@code struct stat} offset below).
 */
@SuppressWarnings("restricted") // native access is this class's whole job
final class Libc {

    private static final int MFD_CLOEXEC = 0x0001;
    private static final int O_RDWR = 02;
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;
    private static final int O_CLOEXEC = 02000000;
    private static final int FALLOC_FL_KEEP_SIZE = 0x01;
    private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_SHARED = 0x01;
    /** memfd names are limited to 249 bytes; longer ones fail with EINVAL. */
    private static final int MEMFD_NAME_MAX = 249;
    /** {@code struct stat}: 144 bytes with st_blocks (512-byte units) at 64, on x86-64 and aarch64. */
    private static final long STAT_SIZE = 144;
    private static final long STAT_BLOCKS_OFFSET = 64;

    private static final int MADV_POPULATE_WRITE = 23;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(PathElement.groupElement("errno"));

    private static final MethodHandle MEMFD_CREATE =
            withErrno("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle OPEN = withErrno("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FTRUNCATE =
            withErrno("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FALLOCATE = withErrno("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MMAP = withErrno("mmap", FunctionDescriptor.of(
            ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MADVISE =
            withErrno("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MUNMAP =
            plain("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle FSTAT =
            withErrno("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle CLOSE =
            withErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle STRERROR =
            plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Libc() {}

    /** A new anonymous memory file, close-on-exec, of size 0; the name shows in /proc/PID/fd. */
    static int memfdCreate(String name) throws IOException {
        // keep the end of long names (the file name part): at most 4 UTF-8 bytes per char
        String shortName = name.length() > MEMFD_NAME_MAX / 4
                ? name.substring(name.length() - MEMFD_NAME_MAX / 4) : name;
        return call("memfd_create", (arena, state) -> (int) MEMFD_CREATE.invokeExact(
                state, arena.allocateFrom(shortName), MFD_CLOEXEC));
    }

    /** Creates {@code file}, which must not exist, for reading and writing by us only. */
    static int createExclusive(Path file) throws IOException {
        return call("open " + file, (arena, state) -> (int) OPEN.invokeExact(state,
                arena.allocateFrom(file.toString()), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    }

    static void ftruncate(int fd, long size) throws IOException {
        call("ftruncate", (arena, state) -> (int) FTRUNCATE.invokeExact(state, fd, size));
    }

    /** Frees the pages of {@code [offset, offset + length)}; the file keeps its size. */
    static void punchHole(int fd, long offset, long length) throws IOException {
        call("fallocate(PUNCH_HOLE)", (arena, state) -> (int) FALLOCATE.invokeExact(
                state, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length));
    }

    /**
     * Maps {@code size} bytes of {@code fd} shared and writable. The mapping is unmapped when
     * {@code arena} closes, and any later access through it fails instead of crashing the JVM.
     */
    static MemorySegment mapShared(int fd, long size, Arena arena) throws IOException {
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
    static void populate(MemorySegment range) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) MADVISE.invokeExact(arena.allocate(CALL_STATE), range, range.byteSize(),
                    MADV_POPULATE_WRITE);
        } catch (Throwable t) {
            throw new AssertionError("madvise downcall failed", t);
        }
    }

    /** Bytes of memory the file holds (st_blocks), which falls when holes are punched. */
    static long allocatedBytes(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = arena.allocate(STAT_SIZE, 8);
            call("fstat", (call, state) -> (int) FSTAT.invokeExact(state, fd, stat));
            return stat.get(JAVA_LONG, STAT_BLOCKS_OFFSET) * 512;
        }
    }

    static void close(int fd) throws IOException {
        call("close", (arena, state) -> (int) CLOSE.invokeExact(state, fd));
    }

    /** One native call: gets an arena for its arguments and the errno capture segment. */
    @FunctionalInterface
    private interface NativeCall {
        int invoke(Arena arena, MemorySegment callState) throws Throwable;
    }

    /** Runs {@code call}; a negative result becomes an IOException naming it and errno. */
    private static int call(String what, NativeCall call) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int result = call.invoke(arena, state);
            if (result < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new IOException(what + " failed: " + describe(errno) + " (errno " + errno + ")");
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

    private static String describe(int errno) {
        try {
            MemorySegment message = (MemorySegment) STRERROR.invokeExact(errno);
            return message.reinterpret(Integer.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            return "unknown error";
        }
    }

    private static MethodHandle withErrno(
            String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(options, 0, all, 1, options.length);
        return LINKER.downcallHandle(symbol(name), descriptor, all);
    }

    private static MethodHandle plain(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(name), descriptor);
    }

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }
}
