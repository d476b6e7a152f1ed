package io.cachefs.peer;

import io.cachefs.stats.Counters;
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
    /** Misuse the port turned away. */
    final Counters<PortEvent> portEvents = new Counters<>(PortEvent.class);
    /** Bytes of blocks sent while they still arrived here from another member (cut-through). */
    final LongAdder passedOnBytes = new LongAdder();
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
                notFound.sum(), rejected.sum(), failed.sum(), portEvents.snapshot());
    }
}
