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
    void readsTheFirstLineTrimmedAndSignsWithItWithoutSendingIt() throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "  abc123  \nignored\n");
        PeerToken token = PeerToken.read(file);
        String uri = "/v1/blocks/0?path=a&size=1";
        String authorization = token.authorization("GET", uri);

        assertTrue(authorization.startsWith("CacheFS-HMAC-SHA256 ts="), authorization);
        assertFalse(authorization.contains("abc123"), "the secret never travels");
        assertTrue(PeerToken.from("abc123").verifies("GET", uri, authorization), "the same secret verifies it");
        assertFalse(PeerToken.from("abc1234").verifies("GET", uri, token.authorization("GET", uri)));
        assertFalse(token.verifies("GET", uri + "x", token.authorization("GET", uri)), "signed for another path");
        assertFalse(token.verifies("GET", uri, "Bearer abc123"), "the old bearer token is no signature");
        assertFalse(token.verifies("GET", uri, null));
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
