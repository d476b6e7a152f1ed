package io.cachefs.peer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
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
 *
 * <p><b>Timeouts from many peers at once</b> say more about this member than about them: its own
 * link is full (its requests wait behind its transfers in the link's queue, or are dropped there)
 * or its machine stalled. Backing them all off would leave it no live member and send it to the
 * source for blocks the group holds. So once {@link #SUSPECT_PEERS} different peers timed out
 * within {@link #SUSPECT_WINDOW_NANOS}, a peer's first timeout is a strike only, the peers backed
 * off by a first timeout in that window are given another try, and a peer is backed off on its
 * second timeout within {@link #STRIKE_MEMORY_NANOS}. A dead peer among them costs a reader one
 * more timeout; a lone dead peer still costs one. Refusals and unreachable addresses back off at
 * once, as before.
 */
final class PeerHealth {
    /** A peer's consecutive failures, and the clock reading at which it may be tried again. */
    private record Down(int failures, long retryAt) {
    }

    /** A peer's timeouts within {@link #STRIKE_MEMORY_NANOS} of each other, and the last one's time. */
    private record Timeouts(int count, long lastAt) {
    }

    /** Different peers timing out within {@link #SUSPECT_WINDOW_NANOS} that point at this member itself. */
    static final int SUSPECT_PEERS = 3;
    static final long SUSPECT_WINDOW_NANOS = 3_000_000_000L;
    /** How long a timeout is remembered: a second one within it backs the peer off even while suspect. */
    static final long STRIKE_MEMORY_NANOS = 10_000_000_000L;

    private final LongSupplier nanoClock;
    private final long firstBackoffNanos;
    private final long maxBackoffNanos;
    private final Map<PeerAddress, Down> down = new ConcurrentHashMap<>();
    /** Guarded by this. */
    private final Map<PeerAddress, Timeouts> timeouts = new HashMap<>();

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
        back(peer, nanoClock.getAsLong());
    }

    /**
     * A request to {@code peer} got no answer in time: backs it off unless timeouts come from
     * too many peers at once. Returns the peers given another try for that reason (often empty),
     * for the caller's log.
     */
    synchronized List<PeerAddress> timedOut(PeerAddress peer) {
        long now = nanoClock.getAsLong();
        timeouts.values().removeIf(t -> now - t.lastAt() > STRIKE_MEMORY_NANOS);
        Timeouts mine = timeouts.merge(peer, new Timeouts(1, now), (before, one) -> new Timeouts(before.count() + 1, now));
        if (!suspect(now) || mine.count() > 1) {
            back(peer, now);
            return List.of();
        }
        List<PeerAddress> pardoned = new ArrayList<>();
        timeouts.forEach((other, t) -> {
            if (t.count() == 1 && now - t.lastAt() <= SUSPECT_WINDOW_NANOS && down.remove(other) != null) {
                pardoned.add(other);
            }
        });
        return pardoned;
    }

    /** True if timeouts came from too many peers at once lately: see the class comment. */
    synchronized boolean suspectsItself() {
        return suspect(nanoClock.getAsLong());
    }

    /** Guarded by this. */
    private boolean suspect(long now) {
        return timeouts.values().stream().filter(t -> now - t.lastAt() <= SUSPECT_WINDOW_NANOS).count() >= SUSPECT_PEERS;
    }

    private void back(PeerAddress peer, long now) {
        down.compute(peer, (p, before) -> {
            int failures = before == null ? 1 : before.failures() + 1;
            return new Down(failures, now + backoffNanos(failures));
        });
    }

    synchronized void alive(PeerAddress peer) {
        down.remove(peer);
        timeouts.remove(peer);
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
    synchronized void retainOnly(Collection<PeerAddress> members) {
        down.keySet().retainAll(members);
        timeouts.keySet().retainAll(members);
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
