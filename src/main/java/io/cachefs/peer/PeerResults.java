package io.cachefs.peer;

import io.cachefs.stats.Counts;

/**
 * What the block requests this member made to peers came to: the answers by {@link Answer}, the
 * failures by their {@link PeerFetch.Kind}. Together the two enums are the results
 * {@code /metrics} exports, so a new kind of failure is a new result with no other edit.
 *
 * @param answers requests a peer answered, by answer
 * @param failures requests that failed, by kind
 */
public record PeerResults(Counts<Answer> answers, Counts<PeerFetch.Kind> failures) {

    /** No request made. */
    public static final PeerResults NONE =
            new PeerResults(Counts.zero(Answer.class), Counts.zero(PeerFetch.Kind.class));

    /** A peer's answer, as opposed to a failure: the {@link PeerFetch} outcomes but {@code Failed}. */
    public enum Answer {
        /** The block came, complete and verified. */
        FETCHED,
        /** The peer does not hold the block, or does not know the version. */
        NOT_THERE,
        /** An owner said "ask these members" instead of sending the block. */
        REDIRECTED
    }
}
