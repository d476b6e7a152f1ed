package io.cachefs.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceDecoratorsTest {

    @TempDir
    Path root;

    @Test
    void throttledSourceTakesTokensForEveryByteRead() throws IOException {
        Files.writeString(root.resolve("a.bin"), "x".repeat(300));
        AtomicLong now = new AtomicLong();
        List<Long> sleeps = new ArrayList<>();
        Throttle throttle = new Throttle(1000, now::get, nanos -> {
            sleeps.add(nanos);
            now.addAndGet(nanos);
        });
        Source source = new ThrottledSource(new LocalDirSource(root), throttle);
        FileVersion version = source.stat("a.bin").orElseThrow().version();

        try (Arena arena = Arena.ofConfined()) {
            source.read(version, 0, arena.allocate(100));
            source.read(version, 100, arena.allocate(200));
        }

        assertEquals(List.of(200_000_000L), sleeps);
    }

    @Test
    void throttledSourceTurnsAnInterruptIntoInterruptedIOException() throws IOException {
        Files.writeString(root.resolve("a.bin"), "abc");
        Throttle throttle = new Throttle(1, System::nanoTime, nanos -> {
            throw new InterruptedException();
        });
        Source source = new ThrottledSource(new LocalDirSource(root), throttle);
        FileVersion version = source.stat("a.bin").orElseThrow().version();

        try (Arena arena = Arena.ofConfined()) {
            assertThrows(InterruptedIOException.class, () -> source.read(version, 0, arena.allocate(3)));
            assertTrue(Thread.interrupted(), "the interrupt stays visible to the caller");
        }
    }

    @Test
    void countingSourceCountsBytesOfCompletedReadsOnly() throws IOException {
        Files.writeString(root.resolve("a.bin"), "hello world");
        CountingSource source = new CountingSource(new LocalDirSource(root));
        FileVersion version = source.stat("a.bin").orElseThrow().version();

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(5);
            source.read(version, 6, dst);
            assertArrayEquals("world".getBytes(StandardCharsets.UTF_8), dst.toArray(ValueLayout.JAVA_BYTE));
            source.read(version, 0, arena.allocate(11));
            FileVersion stale = new FileVersion("a.bin", 11, version.mtimeNanos() + 1);
            assertThrows(StaleVersionException.class, () -> source.read(stale, 0, arena.allocate(11)));
        }

        assertEquals(16, source.counts().get(SourceCounter.READ_BYTES));
        assertEquals(2, source.counts().get(SourceCounter.READS));
    }
}
