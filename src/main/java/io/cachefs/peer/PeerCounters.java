package io.cachefs.peer;

import io.cachefs.stats.Counters;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What this member asked of its peers: requests by result, and blocks, bytes and redirects by
 * peer, for {@code /metrics} and {@code /status}. Bumped by loader threads.
 */
final class PeerCounters {

    /** Counted per peer; members that left stay (a group rarely has more than hundreds over a life). */
    private static final int MAX_PEERS = 4096;

    private final Counters<PeerResults.Answer> answers = new Counters<>(PeerResults.Answer.class);
    private final Counters<PeerFetch.Kind> failures = new Counters<>(PeerFetch.Kind.class);
    private final Map<PeerAddress, LongAdder> fetchedBytes = new ConcurrentHashMap<>();
    private final Map<PeerAddress, LongAdder> fetchedBlocks = new ConcurrentHashMap<>();
    private final Map<PeerAddress, LongAdder> redirects = new ConcurrentHashMap<>();

    void count(PeerResults.Answer answer) {
        answers.increment(answer);
    }

    void failed(PeerFetch.Kind kind) {
        failures.increment(kind);
    }

    void fetched(PeerAddress peer, long bytes) {
        count(PeerResults.Answer.FETCHED);
        if (fetchedBytes.size() < MAX_PEERS || fetchedBytes.containsKey(peer)) {
            fetchedBytes.computeIfAbsent(peer, p -> new LongAdder()).add(bytes);
            fetchedBlocks.computeIfAbsent(peer, p -> new LongAdder()).increment();
        }
    }

    /** {@code owner} answered "ask these members" instead of the block. */
    void redirected(PeerAddress owner) {
        if (redirects.size() < MAX_PEERS || redirects.containsKey(owner)) {
            redirects.computeIfAbsent(owner, p -> new LongAdder()).increment();
        }
    }

    PeerResults results() {
        return new PeerResults(answers.snapshot(), failures.snapshot());
    }

    Map<String, Long> fetchedBytesByPeer() {
        return byName(fetchedBytes);
    }

    Map<String, Long> redirectsByPeer() {
        return byName(redirects);
    }

    private static Map<String, Long> byName(Map<PeerAddress, LongAdder> counts) {
        Map<String, Long> snapshot = new HashMap<>();
        counts.forEach((peer, count) -> snapshot.put(peer.toString(), count.sum()));
        return snapshot;
    }
}
