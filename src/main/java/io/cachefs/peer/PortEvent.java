package io.cachefs.peer;

/** Misuse the peer port turns away, counted by {@link BlockServer} and exported on {@code /metrics}. */
public enum PortEvent {
    /** A connection closed at accept: over the per-address or total cap. */
    CONNECTION_REJECTED,
    /** A connection closed because a request did not arrive whole within the deadline (slow-loris). */
    REQUEST_TIMEOUT,
    /** A request refused (401) for a missing, wrong or expired signature. */
    BAD_SIGNATURE,
    /** A request refused (401) for a signature already used within the window. */
    REPLAY,
    /** A connection refused a TLS session: plain text on a TLS port, or no or a foreign certificate. */
    TLS_REFUSED
}
