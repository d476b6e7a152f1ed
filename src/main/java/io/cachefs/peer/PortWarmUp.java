package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes this member's peer port and its client through their first exchanges while the daemon
 * starts, before it mounts: a holder poll and a memory-only block request, sent to itself.
 *
 * <p>A member's first request runs cold code at both ends: classes of the HTTP codec, the
 * request signature's MAC, the lookup threads, all loaded and interpreted on first use. Measured
 * in bench/scale-out (eight instances starting at once on two cores), that first exchange took
 * over two seconds, past the memory timeout, at every member: each joiner's first holder poll
 * timed out at all but one member, the warm one included, and it was then skipped for five
 * seconds. Paid here, the cost is part of starting, where a readiness probe sees it, and the
 * group's first reads find every member answering at once. The two requests show in the port's
 * own counts (a connection, a 404), not in the member's peer results.
 */
final class PortWarmUp {

    private static final Logger LOG = LoggerFactory.getLogger(PortWarmUp.class);
    /** A version no member holds: the answers are "nothing" and 404, through the whole path. */
    private static final FileVersion NOTHING = new FileVersion(".cachefs-warm-up", 1, 0);

    private PortWarmUp() {
    }

    /**
     * Sends the two requests to {@code self}; a failure is only logged (the port answers others or
     * it does not, and they find out as they would anyway).
     *
     * @return whether both answers were the expected ones: nothing held, and 404
     */
    static boolean run(PeerClient client, InetSocketAddress self, int blockSize) {
        long started = System.nanoTime();
        String failure = exchange(client, self, blockSize);
        if (failure != null) {
            // the first exchange is the cold one, and on a busy machine (many members starting at
            // once) it may outlast the answer timeout: only a second failure says something is wrong
            LOG.debug("peer port warm-up, first try: {}", failure);
            failure = exchange(client, self, blockSize);
        }
        if (failure != null) {
            LOG.warn("this member's peer port did not answer itself as expected at start ({}): other members "
                    + "may not reach it either", failure);
        } else {
            LOG.debug("peer port warmed up in {} ms", (System.nanoTime() - started) / 1_000_000);
        }
        return failure == null;
    }

    /** One holder poll and one memory request to {@code self}; null if both were answered as expected. */
    private static String exchange(PeerClient client, InetSocketAddress self, int blockSize) {
        PeerClient.Reply holders = client.get(self, BlockRequest.holdersUri(NOTHING, blockSize, false), true);
        PeerFetch block;
        try (Arena arena = Arena.ofConfined()) {
            block = client.fetch(self, new BlockRequest(NOTHING, 0, blockSize, BlockRequest.Mode.MEMORY),
                    arena.allocate(1));
        }
        if (holders.failure() == null && holders.status() == 200 && block instanceof PeerFetch.NotThere) {
            return null;
        }
        return "holder poll: " + (holders.failure() != null ? holders.failure().reason() : "HTTP " + holders.status())
                + "; block request: " + block;
    }
}
