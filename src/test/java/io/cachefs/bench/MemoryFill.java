package io.cachefs.bench;

import io.cachefs.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * How fast this machine fills fresh cache memory: a memfd as the block cache makes it, each
 * 4 MiB block populated (pages allocated and zeroed) and then written once, as a peer transfer or
 * a source read writes it. Every load into the cache pays this, whatever the bytes' origin, and a
 * raw TCP stream into one reused buffer does not; so it is the second baseline of a peer hit.
 * On a VM with costly page faults it, not the network, can be the ceiling.
 *
 * <pre>RawFill BYTES   # prints "bytes seconds"</pre>
 */
public final class MemoryFill {
    private static final int BLOCK = 4 << 20;

    public static void main(String[] args) throws Exception {
        long bytes = Long.parseLong(args[0]);
        int fd = Libc.memfdCreate("cachefs-bench-fill");
        try (Arena arena = Arena.ofShared()) {
            Libc.ftruncate(fd, bytes);
            MemorySegment file = Libc.mapShared(fd, bytes, arena);
            MemorySegment block = arena.allocate(BLOCK, 4096);
            block.fill((byte) 7);
            long t0 = System.nanoTime();
            for (long at = 0; at < bytes; at += BLOCK) {
                MemorySegment dst = file.asSlice(at, Math.min(BLOCK, bytes - at));
                Libc.populate(dst);
                MemorySegment.copy(block, 0, dst, 0, dst.byteSize());
            }
            System.out.printf("%d %.6f%n", bytes, (System.nanoTime() - t0) / 1e9);
        } finally {
            Libc.close(fd);
        }
    }
}
