package io.cachefs.fuse;

import io.cachefs.linux.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** A MAP_PRIVATE mapping of a read-only file, which FileChannel cannot make; as model loaders map. */
final class MappedRead {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2;

    private MappedRead() {
    }

    static String privateMappingSha256(Path file, long size) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            int fd = Libc.open(Libc.newCapture(arena), file.toString(), Libc.O_RDONLY);
            try {
                MemorySegment address = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size,
                        PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0L);
                if (address.address() == -1L) {
                    throw new AssertionError("mmap MAP_PRIVATE failed");
                }
                MemorySegment mapped = address.reinterpret(size);
                try {
                    mapped.set(ValueLayout.JAVA_BYTE, 0, mapped.get(ValueLayout.JAVA_BYTE, 0));
                    MessageDigest digest = MessageDigest.getInstance("SHA-256");
                    digest.update(mapped.asByteBuffer());
                    return HexFormat.of().formatHex(digest.digest());
                } finally {
                    int ignored = (int) MUNMAP.invokeExact(address, size);
                }
            } finally {
                Libc.close(Libc.newCapture(arena), fd);
            }
        }
    }
}
