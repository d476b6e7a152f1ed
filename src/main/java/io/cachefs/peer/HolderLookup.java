package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The loader's knowledge of who holds what: for each file version being loaded, the holder list
 * its trackers last gave ({@link Tracker}), asked for on first need and refreshed in the
 * background while the version loads, so that a swarm's order ({@link SwarmOrder}) sees blocks
 * appear at other members within a fraction of a second.
 *
 * <p>A tracker that cannot be reached is skipped for the next one; if none answers, this
 * member acts as the version's tracker itself (it polls the group). Holder lists are advice: a
 * holder that no longer has a block answers 404 and is forgotten for that block
 * ({@link #notHeld}), and the fetch moves on.
 */
final class HolderLookup implements AutoCloseable {

    /** "Nobody holds it" is trusted for this long before an owner or the source is asked instead. */
    static final long FRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Holder lists of versions being loaded are refreshed this often: a swarm follows the others' progress. */
    static final long REFRESH_MILLIS = 100;
    /** A version looked at within this counts as being loaded. */
    static final long ACTIVE_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** A version not looked at for this long is forgotten. */
    static final long FORGET_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** What is known of one version; fetched under its own lock, read without one. */
    private static final class Known {
        final int blockSize;
        volatile Holdings holdings = Holdings.NONE;
        /** When the holdings were fetched (System.nanoTime), 0 if never. */
        volatile long fetchedNanos;
        volatile long usedNanos = System.nanoTime();
        volatile SwarmOrder order;
        volatile boolean refreshing;

        Known(int blockSize) {
            this.blockSize = blockSize;
        }
    }

    private final Membership membership;
    private final Tracker tracker;
    private final PeerClient client;
    private final Function<PeerAddress, InetSocketAddress> addresses;
    private final Map<FileVersion, Known> known = new ConcurrentHashMap<>();
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("cachefs-peer-holders").factory());
    private final ExecutorService fetchers = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("cachefs-peer-holders-", 0).factory());

    HolderLookup(Membership membership, Tracker tracker, PeerClient client,
            Function<PeerAddress, InetSocketAddress> addresses) {
        this.membership = membership;
        this.tracker = tracker;
        this.client = client;
        this.addresses = addresses;
        refresher.scheduleWithFixedDelay(this::refreshActive, REFRESH_MILLIS, REFRESH_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The holders of {@code file}, asked for now if never before. */
    Holdings current(FileVersion file, int blockSize) {
        Known k = known(file, blockSize);
        if (k.fetchedNanos == 0) {
            fetch(file, k, 0);
        }
        return k.holdings;
    }

    /** The holders of {@code file}, asked for again if the last answer is older than {@link #FRESH_NANOS}. */
    Holdings fresh(FileVersion file, int blockSize) {
        Known k = known(file, blockSize);
        long now = System.nanoTime();
        if (k.fetchedNanos == 0 || now - k.fetchedNanos > FRESH_NANOS) {
            fetch(file, k, now);
        }
        return k.holdings;
    }

    /** A swarm order of {@code file} wants its view kept up to date; the first fetch starts now, in the background. */
    void watch(FileVersion file, int blockSize, SwarmOrder order) {
        Known k = known(file, blockSize);
        k.order = order;
        if (k.fetchedNanos != 0) {
            order.update(k.holdings);
        }
        refreshInBackground(file, k);
    }

    /** The order of {@code file} picked a block: the version is being loaded. */
    void touch(FileVersion file) {
        Known k = known.get(file);
        if (k != null) {
            k.usedNanos = System.nanoTime();
        }
    }

    /** The CRC32C of block {@code index} of {@code file} in the holder list last fetched, if it carried one; never asks. */
    java.util.OptionalInt digest(FileVersion file, long index) {
        Known k = known.get(file);
        return k == null ? java.util.OptionalInt.empty() : k.holdings.digest(index);
    }

    /** {@code member} said it does not hold block {@code index} of {@code file}. */
    void notHeld(FileVersion file, PeerAddress member, long index) {
        Known k = known.get(file);
        if (k != null) {
            synchronized (k) {
                k.holdings = k.holdings.without(member, index);
            }
        }
    }

    private Known known(FileVersion file, int blockSize) {
        Known k = known.computeIfAbsent(file, f -> new Known(blockSize));
        k.usedNanos = System.nanoTime();
        return k;
    }

    /** Asks the trackers, unless another thread did since {@code since} (0: ever). */
    private void fetch(FileVersion file, Known k, long since) {
        synchronized (k) {
            if (k.fetchedNanos != 0 && (since == 0 || k.fetchedNanos - since >= 0)) {
                return; // another thread fetched while this one waited
            }
            Holdings holdings = ask(file, k.blockSize);
            k.holdings = holdings;
            k.fetchedNanos = System.nanoTime();
            SwarmOrder order = k.order;
            if (order != null) {
                order.update(holdings);
            }
        }
    }

    private Holdings ask(FileVersion file, int blockSize) {
        PeerAddress self = membership.self();
        String uri = BlockRequest.holdersUri(file, blockSize, true);
        for (PeerAddress candidate : tracker.trackersOf(file)) {
            if (candidate.equals(self)) {
                return tracker.holdings(file, blockSize);
            }
            if (!membership.isLive(candidate)) {
                continue; // failed lately: its back-off covers holder lists too
            }
            PeerClient.Reply reply = client.get(addresses.apply(candidate), uri, true);
            if (reply.failure() == null && reply.status() == 200) {
                membership.markAlive(candidate);
                return Holdings.decode(reply.text());
            }
            if (reply.failure() != null && isDown(reply.failure().kind())) {
                membership.markFailed(candidate, reply.failure());
            }
        }
        return tracker.holdings(file, blockSize); // no tracker answered: be one
    }

    /**
     * Nothing listens, or nothing was said within the memory timeout: a tracker that is busy
     * polling the group sends heartbeats meanwhile, so silence means a hung or stopped member.
     */
    static boolean isDown(PeerFetch.Kind kind) {
        return kind == PeerFetch.Kind.REFUSED || kind == PeerFetch.Kind.TIMEOUT;
    }

    private void refreshInBackground(FileVersion file, Known k) {
        if (k.refreshing) {
            return;
        }
        k.refreshing = true;
        try {
            fetchers.execute(() -> {
                try {
                    fetch(file, k, System.nanoTime());
                } finally {
                    k.refreshing = false;
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            k.refreshing = false;
        }
    }

    private void refreshActive() {
        long now = System.nanoTime();
        known.forEach((file, k) -> {
            if (now - k.usedNanos > FORGET_NANOS) {
                known.remove(file, k);
            } else if (k.order != null && now - k.usedNanos < ACTIVE_NANOS && now - k.fetchedNanos > FRESH_NANOS / 2) {
                refreshInBackground(file, k);
            }
        });
    }

    @Override
    public void close() {
        refresher.shutdownNow();
        fetchers.shutdownNow();
    }
}
