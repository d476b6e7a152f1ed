package io.cachefs.fuse;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** A memory-backed file for tests: its fd (for passthrough) and a mapping of its bytes. */
final class Memfd implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MEMFD_CREATE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("memfd_create").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("ftruncate").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final int MFD_CLOEXEC = 1;

    final int fd;
    final long size;
    final MemorySegment bytes;
    private final Arena arena = Arena.ofShared();

    Memfd(String name, long size) throws IOException {
        try (Arena temp = Arena.ofConfined()) {
            fd = (int) MEMFD_CREATE.invokeExact(temp.allocateFrom(name), MFD_CLOEXEC);
            if (fd < 0 || (int) FTRUNCATE.invokeExact(fd, size) != 0) {
                throw new IOException("memfd_create/ftruncate failed");
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
        this.size = size;
        try (FileChannel channel = FileChannel.open(Path.of("/proc/self/fd/" + fd),
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            bytes = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
        }
    }

    /** A memfd filled with the deterministic pattern of {@link #patternByte}. */
    static Memfd withPattern(String name, long size, int seed) throws IOException {
        Memfd memfd = new Memfd(name, size);
        memfd.fillPattern(0, size, seed);
        return memfd;
    }

    void fillPattern(long from, long length, int seed) {
        for (long i = from; i < from + length; i++) {
            bytes.set(ValueLayout.JAVA_BYTE, i, patternByte(i, seed));
        }
    }

    /** A memfd of incompressible bytes, filled eight at a time (a gigabyte takes well under a second). */
    static Memfd withRandomBytes(String name, long size, long seed) throws IOException {
        Memfd memfd = new Memfd(name, size);
        SplittableRandom random = new SplittableRandom(seed);
        long i = 0;
        for (; i + 8 <= size; i += 8) {
            memfd.bytes.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
        }
        for (; i < size; i++) {
            memfd.bytes.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
        }
        return memfd;
    }

    static byte patternByte(long offset, int seed) {
        long x = offset * 0x9E3779B97F4A7C15L + seed;
        return (byte) (x ^ (x >>> 29) ^ (x >>> 47));
    }

    @Override
    public void close() {
        arena.close();
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
