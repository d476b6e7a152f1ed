package io.cachefs.peer;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signatures a server took within the replay window, so that a captured request cannot be
 * sent again while its timestamp is still good. Keyed by the signature's first 8 bytes (a
 * collision of HMAC outputs at that length is no practical concern) and bounded: past
 * {@link #MAX_ENTRIES}, entries whose timestamp left the window are dropped, and if a group really
 * signs that many requests within a window the oldest knowledge is given up rather than memory.
 */
final class SeenSignatures {

    /** About 10 MB at most: 2,000 requests a second over a minute's window. */
    static final int MAX_ENTRIES = 128 * 1024;

    private final long windowSeconds;
    private final Map<Long, Long> seen = new ConcurrentHashMap<>();

    SeenSignatures(long windowSeconds) {
        this.windowSeconds = windowSeconds;
    }

    /** Remembers {@code signature} of a request stamped {@code ts}; false if it was seen before. */
    boolean firstTime(byte[] signature, long ts, long nowSeconds) {
        if (seen.size() >= MAX_ENTRIES) {
            seen.values().removeIf(stamp -> nowSeconds - stamp > windowSeconds);
            if (seen.size() >= MAX_ENTRIES) {
                seen.clear();
            }
        }
        return seen.putIfAbsent(ByteBuffer.wrap(signature).getLong(), ts) == null;
    }
}
