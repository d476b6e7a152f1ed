package io.cachefs.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * How fast one thread fills fresh pages of a shared file mapping in tmpfs, 64 KiB at a time from
 * a heap buffer: what a cold read costs the cache whatever the source, since every byte loaded
 * lands in fresh pages of a memory-backed file (bench/s3-source states it beside its figures).
 * Then the same pages written again, for comparison. Prints {@code FRESH_MBPS AGAIN_MBPS}.
 *
 * <p>Usage: {@code FreshMemoryWrite DIR MIB}; the file is removed at the end.
 */
public final class FreshMemoryWrite {
    private FreshMemoryWrite() {
    }

    public static void main(String[] args) throws IOException {
        long size = Long.parseLong(args[1]) << 20;
        byte[] chunk = new byte[64 << 10];
        new SplittableRandom(1).nextBytes(chunk);
        Path file = Path.of(args[0]).resolve("fresh-memory-write.bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.DELETE_ON_CLOSE); Arena arena = Arena.ofShared()) {
            channel.truncate(size);
            MemorySegment memory = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            double fresh = fill(memory, chunk);
            double again = fill(memory, chunk);
            System.out.printf("%.0f %.0f%n", fresh, again);
        }
    }

    private static double fill(MemorySegment memory, byte[] chunk) {
        long start = System.nanoTime();
        ByteBuffer target = memory.asByteBuffer();
        while (target.hasRemaining()) {
            target.put(ByteBuffer.wrap(chunk, 0, Math.min(chunk.length, target.remaining())));
        }
        return memory.byteSize() / ((System.nanoTime() - start) / 1e9) / 1e6;
    }
}
