package io.cachefs.peer;

/**
 * What asking a peer for a block came to. Peer trouble is an outcome, not an exception: the
 * caller's next step (the next peer, or the source) is the same for all of them, and only
 * the metrics and the log care which it was.
 */
public sealed interface PeerFetch permits PeerFetch.Fetched, PeerFetch.NotThere, PeerFetch.Redirected,
        PeerFetch.Failed {

    /**
     * The block's bytes are in the destination, complete and checksum-verified, and equal to the
     * digest the asker knew, if it knew one.
     */
    record Fetched(int bytes) implements PeerFetch {}

    /**
     * The peer does not have the block (memory mode), or does not know the file at this
     * version: ask the next one.
     */
    record NotThere() implements PeerFetch {}

    /**
     * An owner asked to load the block does not hold it, but knows members that do: ask them
     * from memory first, and the owner again (without a redirect) only if they fail.
     */
    record Redirected(java.util.List<PeerAddress> holders) implements PeerFetch {}

    /** The peer could not be used; the destination holds no valid bytes. */
    record Failed(Kind kind, String reason) implements PeerFetch {}

    enum Kind {
        /** No complete answer within the request timeout (or the connect timeout). */
        TIMEOUT,
        /** Nothing listens at the address, or it is unreachable. */
        REFUSED,
        /** The body does not match its X-CacheFS-CRC32C: a corrupt peer or network. */
        BAD_CHECKSUM,
        /**
         * The body matches its X-CacheFS-CRC32C, but not the digest the asker already knew of the
         * block (from its own source read or the trackers): the peer holds wrong bytes.
         */
        BAD_DIGEST,
        /** Not a well-formed answer: wrong length, missing header, not HTTP. */
        BAD_RESPONSE,
        /** 401: the peer holds another token. */
        UNAUTHORIZED,
        /**
         * No TLS session: the peer refused this member's certificate, speaks TLS to a plain member,
         * or plain to a TLS one (its 426). The group's members were started with different settings.
         */
        TLS_HANDSHAKE,
        /** 409: the peer cuts files into blocks of another size. */
        CONFLICT,
        /** Any other error status, e.g. 503 when the peer's own load failed. */
        ERROR
    }
}
