package io.cachefs.admin;

import java.util.List;
import java.util.Map;

/**
 * A snapshot of one mount's peer group, when it has one.
 *
 * @param requests block requests this instance made to peers, by result (counters); the keys are
 *     {@link #RESULTS}
 * @param servedBytes block bytes this instance sent to peers (counter)
 * @param members the group as this instance sees it, itself included
 * @param portEvents misuse its peer port turned away, by event (counters); the keys are {@link #PORT_EVENTS}
 */
public record PeerMetrics(Map<String, Long> requests, long servedBytes, List<Member> members,
        Map<String, Long> portEvents) {
    /** The results a peer request can have; each is exported even while zero. */
    public static final List<String> RESULTS = List.of("fetched", "not_there", "redirected", "timeout", "refused",
            "bad_checksum", "bad_response", "unauthorized", "tls_handshake", "conflict", "error");

    /** What the peer port turns away; each is exported even while zero. */
    public static final List<String> PORT_EVENTS = List.of("connection_rejected", "request_timeout", "bad_signature",
            "replay", "tls_refused");

    /** No peer group. */
    public static final PeerMetrics NONE = new PeerMetrics(Map.of(), 0, List.of());

    public PeerMetrics {
        requests = Map.copyOf(requests);
        members = List.copyOf(members);
        portEvents = Map.copyOf(portEvents);
    }

    /** A group whose port turned nothing away. */
    public PeerMetrics(Map<String, Long> requests, long servedBytes, List<Member> members) {
        this(requests, servedBytes, members, Map.of());
    }

    /**
     * One member of the group: its address, whether it is this instance, whether it answers, and
     * the traffic with it (counters).
     *
     * @param fetchedBytes block bytes this instance fetched from it
     * @param servedBytes block bytes this instance sent to it
     * @param redirects owner loads it answered with "ask these members"
     */
    public record Member(String address, boolean self, boolean live, long failures, long fetchedBytes,
            long servedBytes, long redirects) {

        /** A member with no traffic counted. */
        public Member(String address, boolean self, boolean live, long failures) {
            this(address, self, live, failures, 0, 0, 0);
        }
    }
}
