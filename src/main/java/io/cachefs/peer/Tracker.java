package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.net.InetSocketAddress;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * Who keeps each file version's holder list, and this member's part as such a tracker.
 *
 * <p>A version's trackers are the first {@link #TRACKERS} live members ranked by rendezvous
 * hashing of the version's key: every member computes the same ones, without coordination.
 * Members announce what they hold to them ({@link Announcer}), and a member about to load a
 * version asks them who holds what ({@link HolderLookup}).
 *
 * <h2>A tracker that knows nothing</h2>
 * Right after the group grew, a version's tracker may be a member that just started, and the
 * members holding the version may not see the new members for a few seconds yet (their view of
 * the group is refreshed every few seconds), so nobody has announced to it. A tracker asked
 * about a version it has never polled for therefore asks every member it knows what it holds
 * ({@code scope=self}) before answering, and asks again at most every {@link #POLL_AGAIN_NANOS}
 * (members whose view differs announce elsewhere). That is what makes a block held anywhere in
 * the group found before anyone reads the source, whatever the group's history: a poll reaches
 * every member in the tracker's own view, stale or not in theirs. A poll is one short request
 * per member, once per version per tracker, shared by concurrent askers.
 */
final class Tracker {

    /** Two, so that a version's holder list survives one tracker dying; more would only cost announcements. */
    static final int TRACKERS = 2;
    /** Re-poll a version asked about at most this often: covers members announcing to another tracker. */
    static final long POLL_AGAIN_NANOS = 10_000_000_000L;

    private final Membership membership;
    private final HolderDirectory directory;
    private final PeerClient client;
    private final Function<PeerAddress, InetSocketAddress> addresses;
    /** What this member knows first-hand of blocks' CRC32Cs; it vouches for those of the blocks it holds. */
    private final KnownDigests digests;
    private final Map<FileVersion, CompletableFuture<Void>> polls = new ConcurrentHashMap<>();
    private final ExecutorService pollers = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("cachefs-peer-poll-", 0).factory());
    /** This instance's own blocks; null until its cache is serving. */
    private volatile LocalBlocks local;

    Tracker(Membership membership, HolderDirectory directory, PeerClient client,
            Function<PeerAddress, InetSocketAddress> addresses, KnownDigests digests) {
        this.membership = membership;
        this.directory = directory;
        this.client = client;
        this.addresses = addresses;
        this.digests = digests;
    }

    void serving(LocalBlocks blocks) {
        this.local = blocks;
    }

    /** The rendezvous key of a version: a key of its own, never equal to one of its blocks'. */
    static String versionKey(FileVersion file) {
        return file.path() + '\0' + file.size() + '\0' + file.mtimeNanos() + '\0' + file.tag() + "\0tracker";
    }

    /** The version's trackers in this member's view, best first. */
    List<PeerAddress> trackersOf(FileVersion file) {
        List<PeerAddress> ranked = Rendezvous.rank(membership.liveMembers(), versionKey(file));
        return ranked.subList(0, Math.min(TRACKERS, ranked.size()));
    }

    /** This member's own blocks of {@code file} (empty before its cache serves). */
    BitSet own(FileVersion file) {
        LocalBlocks blocks = local;
        return blocks == null ? new BitSet() : blocks.held(file);
    }

    /** This member's own blocks of {@code file} with the digests it knows of them: its answer to a poll. */
    Holdings ownHoldings(FileVersion file) {
        BitSet mine = own(file);
        return new Holdings(java.util.Map.of(membership.self(), mine), digests.of(file, mine));
    }

    /**
     * What this member knows of {@code file}'s holders as its tracker, itself included; polls
     * the group first if it never has, or not for {@link #POLL_AGAIN_NANOS}. Blocks (on a lookup
     * thread) for at most a memory timeout per poll.
     */
    Holdings holdings(FileVersion file, int blockSize) {
        long polled = directory.polledNanos(file);
        if (polled == 0 || System.nanoTime() - polled > POLL_AGAIN_NANOS) {
            poll(file, blockSize);
        }
        BitSet mine = own(file);
        // its own word goes through the same rule as everyone's: a dispute with it is logged too
        directory.told(membership.self(), file, blockSize, digests.of(file, mine));
        Holdings known = directory.holdings(file);
        return mine.isEmpty() ? known : known.with(membership.self(), mine);
    }

    /** Asks every other member it knows what it holds of {@code file}; concurrent callers share one poll. */
    private void poll(FileVersion file, int blockSize) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = polls.putIfAbsent(file, mine);
        if (running != null) {
            running.join();
            return;
        }
        try {
            PeerAddress self = membership.self();
            String uri = BlockRequest.holdersUri(file, blockSize, false);
            Map<PeerAddress, Future<PeerClient.Reply>> asked = new HashMap<>();
            for (PeerAddress member : membership.liveMembers()) {
                if (!member.equals(self)) {
                    asked.put(member, pollers.submit(() -> client.get(addresses.apply(member), uri, false)));
                }
            }
            Map<PeerAddress, BitSet> answers = new HashMap<>();
            asked.forEach((member, reply) -> {
                try {
                    PeerClient.Reply answer = reply.get();
                    if (answer.failure() == null && answer.status() == 200) {
                        // one line, under whatever name the member gives itself: counted under ours
                        Holdings said = Holdings.decode(answer.text());
                        BitSet held = said.byMember().values().stream().findFirst().orElse(new BitSet());
                        answers.put(member, held);
                        directory.told(member, file, blockSize, said.digests().restrictedTo(held));
                    } else if (answer.failure() != null && HolderLookup.isDown(answer.failure().kind())) {
                        membership.markFailed(member, answer.failure());
                    }
                } catch (Exception e) {
                    // no answer from it: it holds nothing we can count on
                }
            });
            directory.polled(file, answers);
        } finally {
            polls.remove(file, mine);
            mine.complete(null);
        }
    }

    void close() {
        pollers.shutdownNow();
    }
}
