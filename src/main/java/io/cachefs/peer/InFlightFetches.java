package io.cachefs.peer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** How many fetches this member has running at each peer now: a swarm spreads its streams by it. */
final class InFlightFetches {

    private final Map<PeerAddress, AtomicInteger> counts = new ConcurrentHashMap<>();

    void begin(PeerAddress peer) {
        counts.computeIfAbsent(peer, p -> new AtomicInteger()).incrementAndGet();
    }

    void end(PeerAddress peer) {
        AtomicInteger count = counts.get(peer);
        if (count != null) {
            count.decrementAndGet();
        }
    }

    int count(PeerAddress peer) {
        AtomicInteger count = counts.get(peer);
        return count == null ? 0 : count.get();
    }
}
