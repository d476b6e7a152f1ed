package io.cachefs.source.s3;

import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which keys can be paths: S3 allows any key, a path only names that a directory tree can hold. */
class KeyPathsTest {

    @Test
    void namesThatCannotBePathSegmentsAreRefused() {
        assertTrue(KeyPaths.isName("model.safetensors"));
        assertTrue(KeyPaths.isName("with space and ünïcode\\"));
        assertFalse(KeyPaths.isName(""), "a key with '//' has an empty segment");
        assertFalse(KeyPaths.isName("."));
        assertFalse(KeyPaths.isName(".."));
        assertFalse(KeyPaths.isName("nul\0"));
    }

    @Test
    void pathsOfSuchNamesAreMissingFiles() {
        assertDoesNotThrow(() -> KeyPaths.checkPath(""));
        assertDoesNotThrow(() -> KeyPaths.checkPath("sd/v1/model.bin"));
        for (String bad : new String[] {"/abs", "a//b", "a/../b", "./a", "a/"}) {
            assertThrows(NoSuchFileException.class, () -> KeyPaths.checkPath(bad), bad);
        }
    }

    @Test
    void inodesAreStableAndKeepClearOfTheRoot() {
        assertEquals(1, KeyPaths.inodeOf(""));
        assertEquals(KeyPaths.inodeOf("sd/model.bin"), KeyPaths.inodeOf("sd/model.bin"));
        assertNotEquals(KeyPaths.inodeOf("sd/model.bin"), KeyPaths.inodeOf("sd/model.bim"));
        assertTrue(KeyPaths.inodeOf("x") > 1);
    }
}
