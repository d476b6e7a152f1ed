package io.cachefs.peer;

/**
 * What a {@link BlockServer} has done since it started, for metrics.
 *
 * @param connections connections accepted
 * @param served blocks sent completely (200)
 * @param servedBytes bytes of those blocks
 * @param notFound 404s: not in memory, no such file, or not the current version
 * @param rejected other 4xx: bad token, malformed request, forbidden path, other block size
 * @param failed 5xx: the local load failed, or something unexpected
 * @param connectionsRejected connections closed at accept, over a connection cap
 * @param requestTimeouts connections closed because a request did not arrive whole in time
 * @param badSignatures requests refused (401) for a missing, wrong or expired signature
 * @param replays requests refused (401) for a signature already used
 * @param tlsRefused connections refused a TLS session (plain text on a TLS port, no or a foreign certificate)
 */
public record BlockServerStats(long connections, long served, long servedBytes, long notFound,
        long rejected, long failed, long connectionsRejected, long requestTimeouts,
        long badSignatures, long replays, long tlsRefused) {}
