package io.cachefs.peer;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Which peers recently failed, and until when they are left alone.
 *
 * <p>A peer that failed is skipped for a back-off that doubles with each consecutive failure, up
 * to a ceiling, so a requester pays a dead peer's timeout once per back-off rather than on every
 * miss, and a peer that comes back is tried again within the ceiling. One success forgets the
 * failures. Peers never failed have no entry: the map holds only the (few) troubled peers.
 */
final class PeerHealth {
    /** A peer's consecutive failures, and the clock reading at which it may be tried again. */
    private record Down(int failures, long retryAt) {
    }

    private final LongSupplier nanoClock;
    private final long firstBackoffNanos;
    private final long maxBackoffNanos;
    private final Map<PeerAddress, Down> down = new ConcurrentHashMap<>();

    PeerHealth(LongSupplier nanoClock, Duration firstBackoff, Duration maxBackoff) {
        if (firstBackoff.isNegative() || firstBackoff.isZero() || maxBackoff.compareTo(firstBackoff) < 0) {
            throw new IllegalArgumentException("peer back-off must be positive and at most its ceiling: "
                    + firstBackoff + " .. " + maxBackoff);
        }
        this.nanoClock = nanoClock;
        this.firstBackoffNanos = firstBackoff.toNanos();
        this.maxBackoffNanos = maxBackoff.toNanos();
    }

    void failed(PeerAddress peer) {
        long now = nanoClock.getAsLong();
        down.compute(peer, (p, before) -> {
            int failures = before == null ? 1 : before.failures() + 1;
            return new Down(failures, now + backoffNanos(failures));
        });
    }

    void alive(PeerAddress peer) {
        down.remove(peer);
    }

    /** False while the peer's back-off runs; true again once it has passed (one more try). */
    boolean isLive(PeerAddress peer) {
        Down d = down.get(peer);
        return d == null || nanoClock.getAsLong() - d.retryAt() >= 0;
    }

    int failures(PeerAddress peer) {
        Down d = down.get(peer);
        return d == null ? 0 : d.failures();
    }

    /** How long until the peer is tried again; zero if it is live. */
    Duration retryIn(PeerAddress peer) {
        Down d = down.get(peer);
        if (d == null) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(Math.max(0, d.retryAt() - nanoClock.getAsLong()));
    }

    /** Forgets peers that left the group, so the map cannot grow with churn. */
    void retainOnly(Collection<PeerAddress> members) {
        down.keySet().retainAll(members);
    }

    private long backoffNanos(int failures) {
        // Doubling stops at the ceiling long before a shift could overflow.
        long backoff = firstBackoffNanos;
        for (int i = 1; i < failures && backoff < maxBackoffNanos; i++) {
            backoff *= 2;
        }
        return Math.min(backoff, maxBackoffNanos);
    }
}
