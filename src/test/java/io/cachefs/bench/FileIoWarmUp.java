package io.cachefs.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Pays a fresh JVM's first file I/O before a reader starts its clock. The first
 * {@code FileChannel.open}, read and map of a JVM load and link NIO's and the memory API's
 * classes: about 20 ms here (a map 17 ms the first time, 0.2 ms the next), a cost of the reader's
 * JVM that dd does not have and that no file system can change. A small file of the JDK's own is
 * read, so that nothing of the file under test is touched or cached.
 */
final class FileIoWarmUp {
    private FileIoWarmUp() {
    }

    static void run() throws IOException {
        Path file = Path.of(System.getProperty("java.home"), "release");
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        try (var channel = FileChannel.open(file, StandardOpenOption.READ); var arena = Arena.ofConfined()) {
            channel.read(buffer);
            channel.read(buffer.clear(), 0);
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            mapped.get(JAVA_BYTE, 0);
        }
    }
}
