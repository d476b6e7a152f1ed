package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A load that takes longer than the source timeout while bytes keep arriving (a peer sending a
 * block slowly) is waited for; a load that goes silent for the timeout still fails its readers.
 */
class LoadProgressTest {

    private static final int BLOCK = 64 * 1024;
    private static final Duration TIMEOUT = Duration.ofMillis(400);
    private static final FileVersion FILE = new FileVersion("models/slow.bin", 2L * BLOCK, 1_700_000_000_000_000_000L);

    /** Loads a block over three source timeouts, saying every 50 ms that bytes arrived, or not. */
    private static BlockLoader slow(boolean sayingSo) {
        return BlockLoader.of((block, dst) -> {
            long end = System.nanoTime() + 3 * TIMEOUT.toNanos();
            while (System.nanoTime() < end) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    throw new InterruptedIOException();
                }
                if (sayingSo) {
                    LoadProgress.made();
                }
            }
            Content.fill(block.file(), block.index() * BLOCK, dst);
            return BlockOrigin.SOURCE;
        });
    }

    @Test
    void aLoadThatKeepsReceivingIsWaitedForPastTheSourceTimeout() throws IOException {
        try (BlockCache cache = new BlockCache(new CacheSettings(8L * BLOCK, BLOCK, null, TIMEOUT), slow(true));
                BlockLease lease = cache.acquire(FILE, 1)) {
            assertEquals(-1, Content.mismatch(FILE, BLOCK, lease.bytes()));
        }
    }

    @Test
    void aLoadThatGoesSilentStillFailsItsReaderAtTheSourceTimeout() {
        try (BlockCache cache = new BlockCache(new CacheSettings(8L * BLOCK, BLOCK, null, TIMEOUT), slow(false))) {
            assertThrows(IOException.class, () -> cache.acquire(FILE, 1).close());
        }
    }
}
