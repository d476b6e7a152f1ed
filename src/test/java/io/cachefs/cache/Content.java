package io.cachefs.cache;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import io.cachefs.source.FileVersion;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Deterministic test content: the byte at each position of each file version, different for
 * every version (path, size and mtime), so a test sees at once if a read got the wrong block,
 * the wrong offset or another version's bytes.
 */
final class Content {

    private Content() {}

    static byte byteAt(FileVersion file, long position) {
        return (byte) (word(file, position >>> 3) >>> (8 * (position & 7)));
    }

    /** Writes the bytes of {@code file} from {@code offset} into all of {@code dst}. */
    static void fill(FileVersion file, long offset, MemorySegment dst) {
        long i = 0;
        // whole words where the position is word-aligned: fast enough for MiB blocks
        for (; i < dst.byteSize() && ((offset + i) & 7) != 0; i++) {
            dst.set(JAVA_BYTE, i, byteAt(file, offset + i));
        }
        for (; i + 8 <= dst.byteSize(); i += 8) {
            dst.set(JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i,
                    word(file, (offset + i) >>> 3));
        }
        for (; i < dst.byteSize(); i++) {
            dst.set(JAVA_BYTE, i, byteAt(file, offset + i));
        }
    }

    /** The offset of the first byte of {@code bytes} that is not {@code file}'s, or -1. */
    static long mismatch(FileVersion file, long offset, MemorySegment bytes) {
        for (long i = 0; i < bytes.byteSize(); i++) {
            if (bytes.get(JAVA_BYTE, i) != byteAt(file, offset + i)) {
                return i;
            }
        }
        return -1;
    }

    private static long word(FileVersion file, long wordIndex) {
        long seed = file.path().hashCode() * 0x9E3779B97F4A7C15L
                ^ file.mtimeNanos() * 0xC2B2AE3D27D4EB4FL ^ file.size();
        long x = (wordIndex + seed) * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 31;
        x *= 0x94D049BB133111EBL;
        return x ^ (x >>> 29);
    }
}
