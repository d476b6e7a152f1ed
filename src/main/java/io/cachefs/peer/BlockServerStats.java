package io.cachefs.peer;

import io.cachefs.stats.Counts;

/**
 * What a {@link BlockServer} has done since it started, for metrics.
 *
 * @param connections connections accepted
 * @param served blocks sent completely (200)
 * @param servedBytes bytes of those blocks
 * @param notFound 404s: not in memory, no such file, or not the current version
 * @param rejected other 4xx: bad token, malformed request, forbidden path, other block size
 * @param failed 5xx: the local load failed, or something unexpected
 * @param portEvents misuse turned away: connections over a cap, requests that did not arrive
 *     whole in time, bad or replayed signatures
 */
public record BlockServerStats(long connections, long served, long servedBytes, long notFound,
        long rejected, long failed, Counts<PortEvent> portEvents) {}
