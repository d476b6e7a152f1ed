package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachefs.source.FileVersion;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells each version's trackers what this member holds of it, with the CRC32Cs it knows
 * first-hand of those blocks ({@link KnownDigests}), in batches: every
 * {@link #PERIOD_MILLIS}, one request per tracker carrying a line for each version whose blocks
 * changed since that tracker was last told (the whole bitmap, so a lost or repeated batch does
 * no harm), and every {@link #REFRESH_NANOS} all of them, so trackers can forget members that
 * went quiet. A version no longer held at all is announced once with no blocks.
 *
 * <p>A member's view of the group may lag; its announcements then go to the trackers of its old
 * view, and the new trackers find it by polling ({@link Tracker}). When its view catches up, the
 * new trackers are new addressees here and get everything at once.
 */
final class Announcer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Announcer.class);
    /** Fast enough that a swarm sees a block appear within a fraction of a second, cheap at one request per tracker. */
    static final long PERIOD_MILLIS = 100;
    /** Everything again this often, so trackers can expire members that went quiet. */
    static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Membership membership;
    private final Tracker tracker;
    private final LocalBlocks local;
    private final KnownDigests digests;
    private final PeerClient client;
    private final int blockSize;
    /** What each tracker was last told, by version; touched by the announcing thread only. */
    private final Map<PeerAddress, Map<FileVersion, BitSet>> told = new HashMap<>();
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("cachefs-peer-announcer").factory());
    private long lastRefresh = System.nanoTime();

    Announcer(Membership membership, Tracker tracker, LocalBlocks local, KnownDigests digests, PeerClient client) {
        this.membership = membership;
        this.tracker = tracker;
        this.local = local;
        this.digests = digests;
        this.client = client;
        this.blockSize = local.blockSize();
        thread.scheduleWithFixedDelay(this::announceSafely, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void announceSafely() {
        try {
            announce();
        } catch (RuntimeException e) {
            LOG.warn("announcing this member's blocks failed; trying again", e); // a throw would end the schedule
        }
    }

    /** One round: a batch to each tracker that has something new to hear. */
    void announce() {
        PeerAddress self = membership.self();
        client.identifyAs(self);
        long now = System.nanoTime();
        boolean refresh = now - lastRefresh > REFRESH_NANOS;
        if (refresh) {
            lastRefresh = now;
        }
        Map<PeerAddress, StringBuilder> batches = new HashMap<>();
        Map<PeerAddress, Map<FileVersion, BitSet>> sending = new HashMap<>();
        Set<FileVersion> heldNow = new HashSet<>();
        for (FileVersion file : local.heldVersions()) {
            heldNow.add(file);
            BitSet blocks = local.held(file);
            for (PeerAddress addressee : tracker.trackersOf(file)) {
                if (addressee.equals(self)) {
                    continue; // this member's own tracker reads its cache directly
                }
                BitSet before = told.getOrDefault(addressee, Map.of()).get(file);
                if (refresh || !blocks.equals(before)) {
                    add(batches, sending, addressee, file, blocks);
                }
            }
        }
        told.forEach((addressee, versions) -> versions.forEach((file, blocks) -> {
            if (!heldNow.contains(file) && !blocks.isEmpty()) {
                add(batches, sending, addressee, file, new BitSet()); // evicted or dropped: none now
            }
        }));
        batches.forEach((addressee, batch) -> {
            PeerClient.Reply reply = client.post(client.address(addressee), WireFormat.HOLDINGS_PATH,
                    batch.toString().getBytes(UTF_8));
            if (reply.failure() == null && reply.status() / 100 == 2) {
                Map<FileVersion, BitSet> versions = told.computeIfAbsent(addressee, a -> new HashMap<>());
                sending.get(addressee).forEach((file, blocks) -> {
                    if (blocks.isEmpty()) {
                        versions.remove(file);
                    } else {
                        versions.put(file, blocks);
                    }
                });
            } else if (reply.failure() != null) {
                // told again next round; a tracker that is slow to take news is no reason to skip its blocks
                client.forget(addressee);
                LOG.debug("announcing to {} failed: {}", addressee, reply.failure().reason());
            }
        });
        told.keySet().retainAll(membership.members()); // trackers that left the group are told nothing more
    }

    private void add(Map<PeerAddress, StringBuilder> batches, Map<PeerAddress, Map<FileVersion, BitSet>> sending,
            PeerAddress addressee, FileVersion file, BitSet blocks) {
        batches.computeIfAbsent(addressee, a -> new StringBuilder())
                .append(new Announcement(file, blockSize, blocks, digests.of(file, blocks)).line());
        sending.computeIfAbsent(addressee, a -> new HashMap<>()).put(file, blocks);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
