package io.cachefs.peer;

import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many connections the peer port holds at once, per client address and in all. Every
 * connection costs the daemon a file descriptor, which its FUSE reads need too (a source file
 * opened per load): without a cap, a flood of idle connections, token or not, exhausts them and
 * reads fail with EIO. A connection over either cap is closed as it is accepted, and counted.
 *
 * <p>A member asks another on at most as many connections as it has load streams (its client
 * keeps 16 idle ones per peer), so the per-address cap leaves a member room to spare; the total
 * holds a large group at a cost a daemon's descriptor limit bears.
 */
final class ConnectionCap {

    /** Four times a member's pooled connections: room for every load stream of a busy member. */
    static final int DEFAULT_PER_ADDRESS = 64;
    /** A group of a few hundred members talking at once, well inside a 1024-descriptor limit. */
    static final int DEFAULT_TOTAL = 512;

    private final int perAddress;
    private final int total;
    private final AtomicInteger open = new AtomicInteger();
    private final Map<InetAddress, AtomicInteger> byAddress = new ConcurrentHashMap<>();

    ConnectionCap(int perAddress, int total) {
        if (perAddress < 1 || total < perAddress) {
            throw new IllegalArgumentException("connection caps must be positive, per address at most the total: "
                    + perAddress + " / " + total);
        }
        this.perAddress = perAddress;
        this.total = total;
    }

    /**
     * Counts {@code channel} in if both caps allow it, and out again when it closes.
     *
     * @return false if it is over a cap: the caller closes it
     */
    boolean admit(Channel channel) {
        InetAddress address = channel.remoteAddress() instanceof InetSocketAddress socket ? socket.getAddress() : null;
        if (open.incrementAndGet() > total) {
            open.decrementAndGet();
            return false;
        }
        AtomicInteger mine = address == null ? null : byAddress.computeIfAbsent(address, a -> new AtomicInteger());
        if (mine != null && mine.incrementAndGet() > perAddress) {
            release(address, mine);
            return false;
        }
        channel.closeFuture().addListener(closed -> release(address, mine));
        return true;
    }

    int open() {
        return open.get();
    }

    private void release(InetAddress address, AtomicInteger mine) {
        open.decrementAndGet();
        if (mine != null && mine.decrementAndGet() == 0) {
            byAddress.remove(address, mine); // the map holds only addresses with connections open
        }
    }
}
