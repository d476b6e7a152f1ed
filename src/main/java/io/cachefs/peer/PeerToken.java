package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The shared secret of one peer group, which never travels: each request carries
 * {@code Authorization: CacheFS-HMAC-SHA256 ts=<unix seconds>,nonce=<16 hex>,sig=<64 hex>}, the
 * HMAC-SHA256 under the secret of its method, path with query, timestamp and nonce. A server
 * takes a signature within {@link #WINDOW_SECONDS} of its own clock, compared in constant time,
 * and only once ({@link SeenSignatures}), so a captured request is worth nothing after the window
 * and nothing twice within it. Without the secret anyone who can reach the port could read every
 * cached model file. Never printed.
 */
public final class PeerToken {

    /** How far a request's clock may be from the server's: NTP keeps members far closer. */
    static final long WINDOW_SECONDS = 30;
    static final String SCHEME = "CacheFS-HMAC-SHA256 ";
    private static final Pattern AUTHORIZATION = Pattern.compile(
            "CacheFS-HMAC-SHA256 ts=(\\d{1,12}),nonce=([0-9a-f]{16}),sig=([0-9a-f]{64})");
    private static final HexFormat HEX = HexFormat.of();

    /** What a request's signature came to. */
    enum Verdict { VALID, INVALID, REPLAYED }

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;
    private final SeenSignatures seen = new SeenSignatures(2 * WINDOW_SECONDS);

    private PeerToken(String secret) {
        this.key = new SecretKeySpec(secret.getBytes(UTF_8), "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HMAC-SHA256 is missing from this JVM", e);
            }
        });
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

    /**
     * Whether {@code authorization} signs this request with the group's secret, recently, for
     * the first time.
     */
    Verdict check(String method, String uri, String authorization, long nowSeconds) {
        if (authorization == null) {
            return Verdict.INVALID;
        }
        Matcher m = AUTHORIZATION.matcher(authorization);
        if (!m.matches()) {
            return Verdict.INVALID;
        }
        long ts = Long.parseLong(m.group(1));
        if (Math.abs(nowSeconds - ts) > WINDOW_SECONDS) {
            return Verdict.INVALID;
        }
        byte[] expected = signature(method, uri, ts, m.group(2));
        if (!MessageDigest.isEqual(expected, HEX.parseHex(m.group(3)))) {
            return Verdict.INVALID;
        }
        return seen.firstTime(expected, ts, nowSeconds) ? Verdict.VALID : Verdict.REPLAYED;
    }

    /** Whether {@code authorization} validly signs this request now (a replay is no valid signature). */
    public boolean verifies(String method, String uri, String authorization) {
        return check(method, uri, authorization, System.currentTimeMillis() / 1000) == Verdict.VALID;
    }

    /** The {@code Authorization} header value of a request for {@code uri}, signed now. */
    public String authorization(String method, String uri) {
        long ts = System.currentTimeMillis() / 1000;
        String nonce = HEX.toHexDigits(ThreadLocalRandom.current().nextLong());
        return SCHEME + "ts=" + ts + ",nonce=" + nonce + ",sig=" + HEX.formatHex(signature(method, uri, ts, nonce));
    }

    private byte[] signature(String method, String uri, long ts, String nonce) {
        Mac mac = macs.get();
        return mac.doFinal((method + "\n" + uri + "\n" + ts + "\n" + nonce).getBytes(UTF_8));
    }

    @Override
    public String toString() {
        return "PeerToken[hidden]";
    }
}
