package io.cachefs.source;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * How many 512-byte blocks a file really occupies ({@code st_blocks}), which java.nio's
 * attribute views do not expose. CacheFS reports it so {@code du} on the mirror agrees with the
 * source and sparse files look sparse. Uses Linux {@code statx(2)} through FFM because its
 * layout is the same on every architecture; where it is unavailable the caller estimates.
 */
final class AllocatedBlocks {

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int STATX_BLOCKS = 0x400;
    /** struct statx is 256 bytes; stx_mask is at 0 and stx_blocks at 48 (linux/stat.h). */
    private static final long STATX_SIZE = 256;
    private static final long STX_MASK = 0;
    private static final long STX_BLOCKS = 48;

    private static final MethodHandle STATX = lookupStatx();

    private AllocatedBlocks() {}

    /** The allocated blocks of {@code path} (a final symlink not followed), if statx can tell. */
    static OptionalLong of(Path path) {
        if (STATX == null) {
            return OptionalLong.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path.toString());
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            int rc = (int) STATX.invokeExact(AT_FDCWD, name, AT_SYMLINK_NOFOLLOW, STATX_BLOCKS, buf);
            if (rc != 0 || (buf.get(ValueLayout.JAVA_INT, STX_MASK) & STATX_BLOCKS) == 0) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(buf.get(ValueLayout.JAVA_LONG, STX_BLOCKS));
        } catch (Throwable e) {
            return OptionalLong.empty();
        }
    }

    // Restricted: calling native code. The daemon runs with --enable-native-access (FUSE needs it).
    @SuppressWarnings("restricted")
    private static MethodHandle lookupStatx() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("statx")
                    .map(address -> linker.downcallHandle(address, FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            // No native access (or no such function): fall back to an estimate from the size.
            return null;
        }
    }
}
