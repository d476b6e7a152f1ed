package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cachefs.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A run's pages are populated beside its read: the first huge page at once, the rest on the
 * populating thread unless the read is over first. Measured on a tmpfs file, whose allocated size
 * shows which pages were populated.
 */
class PagePopulatorTest {
    private static final long SIZE = 16L << 20;

    private final ExecutorService thread = Executors.newSingleThreadExecutor();
    private final PagePopulator populator = new PagePopulator(thread);
    private final Arena arena = Arena.ofShared();
    private Path file;
    private int fd = -1;
    private MemorySegment range;

    @BeforeEach
    void mapAFreshTmpfsFile() throws IOException {
        file = Path.of("/dev/shm", "cachefs-populator-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        fd = Libc.createExclusive(file);
        Libc.ftruncate(fd, SIZE);
        range = Libc.mapShared(fd, SIZE, arena);
    }

    @AfterEach
    void cleanUp() throws IOException {
        populator.close();
        arena.close();
        if (fd >= 0) {
            Libc.close(fd);
        }
        Files.deleteIfExists(file);
    }

    @Test
    void theFirstHugePageIsReadyBeforeTheReadStartsAndTheRestFollowsOnTheThread() throws Exception {
        PagePopulator.Population population = populator.start(range);
        thread.submit(() -> { }).get(10, TimeUnit.SECONDS); // the population ran before this
        population.finish();

        assertEquals(SIZE, Libc.allocatedBytes(fd));
    }

    @Test
    void aPopulationStillQueuedWhenItsReadEndsIsSkipped() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        thread.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        PagePopulator.Population population = populator.start(range);
        assertEquals(PagePopulator.FIRST_BYTES, Libc.allocatedBytes(fd), "only the first huge page, at once");

        population.finish(); // the read is over: nothing may touch the range any more
        release.countDown();
        thread.submit(() -> { }).get(10, TimeUnit.SECONDS);

        assertEquals(PagePopulator.FIRST_BYTES, Libc.allocatedBytes(fd),
                "a skipped population must not allocate pages after its range was handed back");
    }

    @Test
    void populatingNeverChangesWhatTheReadWrote() throws Exception {
        PagePopulator.Population population = populator.start(range);
        for (long offset = 0; offset < SIZE; offset += 4096) {
            range.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, offset + 1); // the read, racing the population
        }
        population.finish();

        for (long offset = 0; offset < SIZE; offset += 4096) {
            assertEquals(offset + 1, range.get(ValueLayout.JAVA_LONG_UNALIGNED, offset));
        }
        assertEquals(SIZE, Libc.allocatedBytes(fd));
    }
}
