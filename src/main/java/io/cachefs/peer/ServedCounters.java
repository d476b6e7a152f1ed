package io.cachefs.peer;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** The live counters behind {@link BlockServerStats}; bumped from event loops and lookups. */
final class ServedCounters {

    final LongAdder connections = new LongAdder();
    final LongAdder served = new LongAdder();
    final LongAdder servedBytes = new LongAdder();
    final LongAdder notFound = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder failed = new LongAdder();
    /** Connections closed at accept: over the per-address or total cap. */
    final LongAdder connectionsRejected = new LongAdder();
    /** Connections closed because a request did not arrive whole within the deadline (slow-loris). */
    final LongAdder requestTimeouts = new LongAdder();
    /** Requests refused for a missing, wrong or expired signature. */
    final LongAdder badSignatures = new LongAdder();
    /** Requests refused for a signature already used within the window. */
    final LongAdder replays = new LongAdder();
    /** Connections refused a TLS session: plain text on a TLS port, or no or a foreign certificate. */
    final LongAdder tlsRefused = new LongAdder();
    /** Owner loads answered with "ask these members" (307). */
    final LongAdder redirects = new LongAdder();
    /** Bytes sent to each asker that named itself; bounded, since anyone with the token may name anything. */
    private final Map<String, LongAdder> servedTo = new ConcurrentHashMap<>();
    private static final int MAX_PEERS = 4096;

    void served(String member, long bytes) {
        served.increment();
        servedBytes.add(bytes);
        if (member != null && (servedTo.size() < MAX_PEERS || servedTo.containsKey(member))) {
            servedTo.computeIfAbsent(member, m -> new LongAdder()).add(bytes);
        }
    }

    Map<String, Long> servedBytesByPeer() {
        Map<String, Long> snapshot = new HashMap<>();
        servedTo.forEach((member, bytes) -> snapshot.put(member, bytes.sum()));
        return snapshot;
    }

    void countError(int status) {
        if (status == 404) {
            notFound.increment();
        } else if (status < 500) {
            rejected.increment();
        } else {
            failed.increment();
        }
    }

    BlockServerStats snapshot() {
        return new BlockServerStats(connections.sum(), served.sum(), servedBytes.sum(),
                notFound.sum(), rejected.sum(), failed.sum(), connectionsRejected.sum(), requestTimeouts.sum(),
                badSignatures.sum(), replays.sum(), tlsRefused.sum());
    }
}
