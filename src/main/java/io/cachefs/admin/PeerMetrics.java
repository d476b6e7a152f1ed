package io.cachefs.admin;

import io.cachefs.peer.PeerResults;
import io.cachefs.peer.PortEvent;
import io.cachefs.stats.Counts;
import java.util.List;

/**
 * A snapshot of one mount's peer group, when it has one. The counters by result and by event are
 * the peer package's enums, exported by {@link ExportedCounters} by iterating them.
 *
 * @param results block requests this instance made to peers, by answer and by kind of failure
 * @param servedBytes block bytes this instance sent to peers (counter)
 * @param members the group as this instance sees it, itself included
 * @param portEvents misuse its peer port turned away, by event
 * @param passedOnBytes of {@code servedBytes}, those sent while the block still arrived from another member
 *     (cut-through; counter)
 */
public record PeerMetrics(PeerResults results, long servedBytes, List<Member> members, Counts<PortEvent> portEvents,
        long passedOnBytes) {

    /** No peer group. */
    public static final PeerMetrics NONE = new PeerMetrics(PeerResults.NONE, 0, List.of());

    public PeerMetrics {
        members = List.copyOf(members);
    }

    /** A group whose port turned nothing away. */
    public PeerMetrics(PeerResults results, long servedBytes, List<Member> members) {
        this(results, servedBytes, members, Counts.zero(PortEvent.class), 0);
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
