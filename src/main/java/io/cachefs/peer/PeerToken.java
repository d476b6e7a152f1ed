package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * The shared secret that members of one peer group present to each other as
 * {@code Authorization: Bearer <token>}. Without it anyone who can reach the port could read
 * every cached model file. Compared in constant time; never printed.
 */
public final class PeerToken {

    private final byte[] secret;

    private PeerToken(String secret) {
        this.secret = secret.getBytes(UTF_8);
    }

    /**
     * The token in {@code file}: its first line, trimmed, as written by
     * {@code openssl rand -hex 32 > token} or mounted from a Kubernetes secret.
     *
     * @throws NoSuchFileException if the file is missing
     * @throws IllegalArgumentException if the file holds no token
     */
    public static PeerToken read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null,
                    "peer token file not found: create it with e.g. openssl rand -hex 32");
        }
        String firstLine = text.lines().findFirst().orElse("").strip();
        if (firstLine.isEmpty()) {
            throw new IllegalArgumentException("peer token file " + file
                    + " is empty: write a secret shared by every peer into it");
        }
        return from(firstLine);
    }

    /** @throws IllegalArgumentException if {@code secret} is blank or holds whitespace */
    public static PeerToken from(String secret) {
        if (secret == null || secret.isBlank()) {
            throw new IllegalArgumentException("the peer token is empty");
        }
        if (!secret.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
            throw new IllegalArgumentException(
                    "the peer token must be printable ASCII without spaces");
        }
        return new PeerToken(secret);
    }

    /** Whether an {@code Authorization} header value (may be null) carries this token. */
    public boolean matches(String authorization) {
        if (authorization == null || !authorization.startsWith(WireFormat.BEARER)) {
            return false;
        }
        byte[] offered = authorization.substring(WireFormat.BEARER.length()).getBytes(UTF_8);
        return MessageDigest.isEqual(secret, offered);
    }

    /** The {@code Authorization} header value that carries this token. */
    String authorization() {
        return WireFormat.BEARER + new String(secret, UTF_8);
    }

    @Override
    public String toString() {
        return "PeerToken[hidden]";
    }
}
