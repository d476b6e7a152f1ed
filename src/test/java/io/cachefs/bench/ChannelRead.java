package io.cachefs.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a file front to back through a {@link FileChannel} into one 1 MiB direct buffer, the way a
 * Java service copies a model into memory, and prints {@code BYTES SECONDS} (open to close).
 * A fresh JVM per read (bench/run), so that nothing is cached in the reader between runs.
 */
public final class ChannelRead {
    private ChannelRead() {
    }

    public static void main(String[] args) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        FileIoWarmUp.run();
        long start = System.nanoTime();
        long total = 0;
        try (var in = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ)) {
            int n;
            while ((n = in.read(buffer.clear())) >= 0) {
                total += n;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%d %.6f%n", total, seconds);
    }
}
