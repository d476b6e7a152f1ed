package io.cachefs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A daemon's {@code --store-dir}: one daemon at a time, one directory per mount, former mounts' stores removed. */
class StoreDirectoryTest {

    private Path dir;

    @BeforeEach
    void makeDir() throws IOException {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "cachefs-test-storedir-");
    }

    @AfterEach
    void deleteDir() throws IOException {
        StoreAdoptionTest.deleteStore(dir);
    }

    @Test
    void aSecondOpenIsRefusedUntilTheFirstIsClosed() {
        try (StoreDirectory first = StoreDirectory.open(dir)) {
            IllegalStateException busy = assertThrows(IllegalStateException.class, () -> StoreDirectory.open(dir));
            assertEquals("cache store directory " + dir + " is in use by another cachefs daemon (pid "
                    + ProcessHandle.current().pid() + "): give each daemon a --store-dir of its own", busy.getMessage());
        }
        StoreDirectory.open(dir).close();
    }

    @Test
    void aDirectoryNotOnTmpfsIsRefused() throws IOException {
        Path disk = Files.createTempDirectory("cachefs-test-disk-");
        try {
            if (!Files.getFileStore(disk).type().equals("tmpfs")) {
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                        () -> StoreDirectory.open(disk));
                assertTrue(refused.getMessage().contains("not tmpfs"), refused.getMessage());
            }
        } finally {
            Files.delete(disk);
        }
    }

    @Test
    void eachMountPointHasADirectoryOfItsOwn() {
        assertNotEquals(StoreDirectory.partitionName(Path.of("/a_b")), StoreDirectory.partitionName(Path.of("/a/b")));
        assertEquals(StoreDirectory.partitionName(Path.of("/mnt/models/")),
                StoreDirectory.partitionName(Path.of("/mnt/models")));
        assertTrue(StoreDirectory.partitionName(Path.of("/mnt/models")).startsWith("mount-mnt_models-"));
    }

    @Test
    void storesOfMountsNoLongerServedAreRemovedAndOthersKept() throws IOException {
        Path kept;
        Path former;
        try (StoreDirectory store = StoreDirectory.open(dir)) {
            kept = store.partition(Path.of("/mnt/kept"));
            former = store.partition(Path.of("/mnt/former"));
            Files.writeString(kept.resolve("1-a.blocks"), "a");
            Files.writeString(former.resolve("1-b.blocks"), "b");
            Files.writeString(former.resolve("1-b.index"), "b");
        }
        Path foreign = Files.writeString(dir.resolve("notes.txt"), "not ours");
        try (StoreDirectory store = StoreDirectory.open(dir)) {
            assertEquals(kept, store.partition(Path.of("/mnt/kept")));
            store.removeUnclaimed();
        }
        assertTrue(Files.exists(kept.resolve("1-a.blocks")));
        assertFalse(Files.exists(former));
        assertTrue(Files.exists(foreign), "files that are not a mount's store are left alone");
    }
}
