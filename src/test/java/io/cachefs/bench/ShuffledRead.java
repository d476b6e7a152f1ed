package io.cachefs.bench;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Reads a file's 4 MiB pieces in a shuffled order with positional {@link FileChannel} reads into
 * one 4 MiB direct buffer, the way a loader that follows a tensor index jumps around a model
 * file, and prints {@code BYTES SECONDS} (open to close) like {@link ChannelRead}. The order comes
 * from a fixed seed, so every run and every source sees the same sequence of offsets and no
 * source can recognise it as sequential.
 */
public final class ShuffledRead {
    private static final int PIECE = 4 << 20;

    private ShuffledRead() {
    }

    public static void main(String[] args) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(PIECE);
        FileIoWarmUp.run();
        long start = System.nanoTime();
        long total = 0;
        try (var in = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ)) {
            long size = in.size();
            List<Long> pieces = new ArrayList<>();
            for (long i = 0; i * PIECE < size; i++) {
                pieces.add(i);
            }
            Collections.shuffle(pieces, new Random(42));
            for (long piece : pieces) {
                long offset = piece * PIECE;
                buffer.clear().limit((int) Math.min(PIECE, size - offset));
                while (buffer.hasRemaining()) {
                    int n = in.read(buffer, offset + buffer.position());
                    if (n < 0) {
                        // The file shrank under us: a short count would pass for a slow read.
                        throw new EOFException(args[0] + " ended at " + (offset + buffer.position())
                                + " of " + size + " bytes");
                    }
                }
                total += buffer.position();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%d %.6f%n", total, seconds);
    }
}
