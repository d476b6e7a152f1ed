package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerTokenTest {

    @TempDir
    Path dir;

    @Test
    void readsTheFirstLineTrimmedAndMatchesOnlyThatBearerToken() throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "  abc123  \nignored\n");
        PeerToken token = PeerToken.read(file);

        assertTrue(token.matches("Bearer abc123"));
        assertFalse(token.matches("Bearer abc1234"));
        assertFalse(token.matches("Bearer abc12"));
        assertFalse(token.matches("bearer abc123"));
        assertFalse(token.matches("abc123"));
        assertFalse(token.matches(null));
        assertEquals("Bearer abc123", token.authorization());
        assertFalse(token.toString().contains("abc123"), "never printed");
    }

    @Test
    void aMissingOrEmptyFileSaysWhatToDo() throws Exception {
        var missing = assertThrows(NoSuchFileException.class,
                () -> PeerToken.read(dir.resolve("absent")));
        assertTrue(missing.getMessage().contains("absent"));
        Path empty = Files.writeString(dir.resolve("empty"), "\n  \n");
        var blank = assertThrows(IllegalArgumentException.class, () -> PeerToken.read(empty));
        assertTrue(blank.getMessage().contains("empty"), blank.getMessage());
        assertEquals(1, blank.getMessage().lines().count());
        assertThrows(IllegalArgumentException.class, () -> PeerToken.from("two words"));
    }
}
