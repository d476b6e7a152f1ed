package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.source.FileVersion;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CacheSettingsTest {

    @Test
    void acceptsPowerOfTwoPageMultipleBlocksWithinCapacity() {
        var settings = new CacheSettings(20L << 30, 4 << 20, Path.of("/dev/shm/cachefs"), CacheSettings.DEFAULT_SOURCE_TIMEOUT);
        assertEquals(4 << 20, settings.layout().blockSize());
        assertEquals(CacheSettings.DEFAULT_BLOCK_SIZE,
                CacheSettings.withCapacity(1L << 30).blockSize());
    }

    @Test
    void rejectsBlockSizesThatAreNotPowerOfTwoPageMultiples() {
        for (int blockSize : new int[] {0, -4096, 1000, 2048, 3 * 4096, 1 << 31}) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new CacheSettings(1L << 30, blockSize, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
            assertTrue(e.getMessage().contains("power of two"), e.getMessage());
        }
    }

    @Test
    void rejectsCapacityBelowOneBlock() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new CacheSettings(1 << 20, 4 << 20, null, CacheSettings.DEFAULT_SOURCE_TIMEOUT));
        assertTrue(e.getMessage().contains("raise the capacity"), e.getMessage());
    }

    @Test
    void rejectsNoSourceTimeoutAndRelativeStoreDirectories() {
        assertThrows(IllegalArgumentException.class,
                () -> new CacheSettings(1L << 30, 4 << 20, null, Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> new CacheSettings(1L << 30, 4 << 20, Path.of("shm/cachefs"), CacheSettings.DEFAULT_SOURCE_TIMEOUT));
    }

    @Test
    void layoutCutsFilesIntoFullBlocksAndAShortLastOne() {
        BlockLayout layout = new BlockLayout(4096);
        FileVersion file = new FileVersion("f", 2 * 4096 + 10, 0);
        assertEquals(3, layout.blockCount(file.size()));
        assertEquals(0, layout.blockCount(0));
        assertEquals(4096, layout.length(file, 1));
        assertEquals(10, layout.length(file, 2));
        assertEquals(8192, layout.offset(2));
        assertEquals(2, layout.blockIndex(8192));
        assertEquals(4096, BlockLayout.memoryBytes(10), "a short block still takes a page");
        assertEquals(8192, BlockLayout.memoryBytes(8192));
        assertThrows(IndexOutOfBoundsException.class, () -> layout.length(file, 3));
    }
}
