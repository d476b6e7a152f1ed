package io.cachefs.peer;

import io.cachefs.cache.BlockKey;
import io.cachefs.cache.BlockLease;
import io.cachefs.cache.BlockLoader;
import io.cachefs.cache.BlockOrigin;
import io.cachefs.cache.BlockReader;
import io.cachefs.cache.LoadOrder;
import io.cachefs.cache.SourceLoader;
import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a block missing from local memory comes from in a peer group: the block cache's loader.
 *
 * <ol>
 *   <li><b>Holders.</b> The version's holder list ({@link HolderLookup}, from its trackers) names
 *       the members holding the block: up to {@link #HOLDER_TRIES} of them are asked for a
 *       memory-only copy, the one the swarm's order picked first ({@link SwarmOrder}), then the
 *       least busy of those that joined recently (partial holders); then the block's swarm owner
 *       is asked to load it (it fetches it from a warm member once for all new members); then
 *       a holder of the whole file. If nobody is known to hold it, the list is refreshed once if it is older
 *       than a fraction of a second, and tried again. If the holders it named all failed, or are
 *       skipped for a back-off (a holder that lies, or a tracker that is wrong), the block's first
 *       live ranks are asked from memory too: its owner and the members that owned it before the
 *       group grew. A block some list named is in the group: it is looked for before the source.
 *   <li><b>The owner.</b> The live members ranked by rendezvous hashing of the block's key are
 *       its owners. The top one is asked to load it, for the whole group (its cache's
 *       singleflight merges every member's request), or to say who holds it (a 307: "ask X");
 *       those are asked from memory, and the owner again, without redirect, only if they fail.
 *       If the owner fails, the next rank is asked, until this instance itself is the best live
 *       owner.
 *   <li><b>The source,</b> then, and when every peer failed.
 * </ol>
 *
 * <h2>Wrong bytes</h2>
 * Every block carries the sender's CRC32C, which proves only that the bytes arrived as sent. A
 * block is also checked against its <em>digest</em> where one is known: the CRC32C this member
 * computed when it read the block from the source itself, or verified before ({@link
 * KnownDigests}), else the one the version's trackers hand out with the holder list (told by the
 * member that read it from the source; none while two members dispute it). A peer whose bytes do
 * not match ({@link PeerFetch.Kind#BAD_DIGEST}) holds wrong bytes: its block is never used, the
 * next holder, owner or the source is asked as for any failure, and the peer is skipped for a
 * back-off by every request.
 *
 * <p>A peer that times out, refuses or answers garbage is marked failed and skipped for a back-off
 * ({@link Membership#markFailed}), so a requester waits on a dead or slow peer at most once per
 * back-off. A load that a peer asked of this instance as the owner is never forwarded again
 * (the cache passes {@code ownerLoad}), and a redirect only ever leads to memory-only requests:
 * two members that disagree on the ring cannot bounce a request forever.
 *
 * <p>The cache loads in streams; each stream's reader keeps its own source handle for the
 * blocks that end up coming from the source, opened only if one does.
 */
public final class PeerLoader implements BlockLoader {
    private static final Logger LOG = LoggerFactory.getLogger(PeerLoader.class);
    /** Holders asked per block before the owner: a lying or evicting holder costs a retry, not the source. */
    static final int HOLDER_TRIES = 3;
    /**
     * The longest a fetch waits for its turn at a shared warm member before it asks anyway: well
     * under an asker's owner-load timeout, longer than a few blocks on a slow link.
     */
    static final long TURN_WAIT_NANOS = TimeUnit.SECONDS.toNanos(8);
    /** Versions being loaded whose order is remembered; far more than load at once. */
    private static final int MAX_ORDERS = 1024;

    private final Membership membership;
    private final PeerClient client;
    private final HolderLookup lookup;
    private final PeerCounters counters;
    private final KnownDigests digests;
    private final InFlightFetches inFlight = new InFlightFetches();
    private final Arrivals arrivals;
    private final SourceLoader source;
    private final int blockSize;
    private final Map<FileVersion, SwarmOrder> orders = new ConcurrentHashMap<>();
    /** One memory fetch at a time from a warm member that several new members share (SwarmOrder#oneAtATimeFrom). */
    private final Map<PeerAddress, Semaphore> turns = new ConcurrentHashMap<>();
    private final Map<PeerFetch.Kind, Boolean> logged = new EnumMap<>(PeerFetch.Kind.class);
    /** Peers whose wrong bytes were logged: once per peer, not once per block. */
    private final Set<PeerAddress> reportedWrongBytes = ConcurrentHashMap.newKeySet();

    PeerLoader(Membership membership, PeerClient client, HolderLookup lookup, PeerCounters counters,
            KnownDigests digests, Arrivals arrivals, Source source, int blockSize) {
        this.membership = membership;
        this.client = client;
        this.lookup = lookup;
        this.counters = counters;
        this.digests = digests;
        this.arrivals = arrivals;
        this.source = new SourceLoader(source);
        this.blockSize = blockSize;
    }

    @Override
    public BlockReader open(FileVersion file) {
        SourceLoader.Reader fromSource = source.open(file);
        return new BlockReader() {
            @Override
            public BlockOrigin load(BlockKey block, MemorySegment dst, boolean ownerLoad) throws IOException {
                if (fromPeers(block, dst, ownerLoad)) {
                    return BlockOrigin.PEER;
                }
                fromSource.read(block, dst);
                // this member read it: its digest is first-hand, for the trackers and for its own later fetches
                digests.record(block.file(), block.blockSize(), block.index(), BlockLease.crc32cOf(dst));
                return BlockOrigin.SOURCE;
            }

            @Override
            public void close() {
                fromSource.close();
            }
        };
    }

    /** What the source says: a block that comes from peers costs no stream of the source's. */
    @Override
    public int firstStreams() {
        return source.firstStreams();
    }

    /** A swarm's order for a whole-file load; its holder list is fetched in the background from now on. */
    @Override
    public LoadOrder order(FileVersion file) {
        SwarmOrder order = new SwarmOrder(file, blockSize, membership, lookup, inFlight);
        if (orders.size() >= MAX_ORDERS) {
            orders.clear(); // only plans are lost: each block then goes to the least busy holder
        }
        orders.put(file, order);
        lookup.watch(file, blockSize, order);
        return order;
    }

    /** Tries the holders, then (unless this is itself an owner load) the owners. */
    private boolean fromPeers(BlockKey block, MemorySegment dst, boolean ownerLoad) {
        FileVersion file = block.file();
        long index = block.index();
        SwarmOrder order = orders.get(file);
        PeerAddress planned = order == null ? null : order.take(index);
        Set<PeerAddress> tried = new HashSet<>();
        BlockRequest fromMemory = new BlockRequest(file, index, block.blockSize(), BlockRequest.Mode.MEMORY);
        Holdings holders = lookup.current(file, block.blockSize());
        if (fromHolders(fromMemory, planned, partialHolders(holders, index, block), tried, dst)) {
            return true;
        }
        PeerAddress swarmOwner = order == null ? null : order.swarmOwner(index);
        if (!ownerLoad && swarmOwner != null && !swarmOwner.equals(membership.self()) && membership.isLive(swarmOwner)
                && fromOwner(swarmOwner, block, fromMemory, tried, dst)) {
            return true; // the member that fetches it from a warm one for the group had it, or got it now
        }
        if (fromHolders(fromMemory, null, holders.holdersOf(index), tried, dst)) {
            return true;
        }
        boolean named = namesOthers(holders.holdersOf(index));
        holders = lookup.fresh(file, block.blockSize()); // "nobody has it" must be recent news
        if (fromHolders(fromMemory, null, holders.holdersOf(index), tried, dst)) {
            return true;
        }
        named |= namesOthers(holders.holdersOf(index)) || !tried.isEmpty();
        if (named && fromHolders(fromMemory, null, memoryRanks(file, index), new HashSet<>(), dst)) {
            // the lists named holders that failed, or that are in a back-off since another stream's
            // request failed (a lying or confused tracker): the block is in the group, so ask its ranks
            // before anyone reads the source. A list fetched within FRESH_NANOS is not asked again, so
            // it may still name only a holder that failed a moment ago: "tried" is empty then.
            return true;
        }
        if (ownerLoad) {
            return false;
        }
        PeerAddress self = membership.self();
        for (PeerAddress owner : Rendezvous.rank(membership.liveMembers(), Rendezvous.blockKey(file, index))) {
            if (owner.equals(self)) {
                return false; // this instance is the best live owner: it reads the source for the group
            }
            if (!membership.isLive(owner)) {
                continue; // it failed since the ranking (often just now, as a holder): no second timeout
            }
            if (fromOwner(owner, block, fromMemory, tried, dst)) {
                return true;
            }
        }
        return false;
    }

    /** Asks {@code owner} to load the block or say who holds it; follows a redirect once. */
    private boolean fromOwner(PeerAddress owner, BlockKey block, BlockRequest fromMemory, Set<PeerAddress> tried,
            MemorySegment dst) {
        PeerFetch answer = fetch(owner, new BlockRequest(block.file(), block.index(), block.blockSize(),
                BlockRequest.Mode.LOAD_OR_REDIRECT), dst);
        if (answer instanceof PeerFetch.Fetched) {
            return true;
        }
        if (answer instanceof PeerFetch.Redirected redirected) {
            counters.redirected(owner);
            return fromHolders(fromMemory, null, redirected.holders(), tried, dst)
                    || fetch(owner, new BlockRequest(block.file(), block.index(), block.blockSize(),
                            BlockRequest.Mode.LOAD), dst) instanceof PeerFetch.Fetched;
        }
        return false;
    }

    /** True if {@code holders} names a member other than this one, live or not. */
    private boolean namesOthers(List<PeerAddress> holders) {
        PeerAddress self = membership.self();
        for (PeerAddress holder : holders) {
            if (!holder.equals(self)) {
                return true;
            }
        }
        return false;
    }

    /** The holders of block {@code index} that do not hold the whole file: new members, whose uplinks are idle. */
    private static List<PeerAddress> partialHolders(Holdings holders, long index, BlockKey block) {
        long blocks = Math.ceilDiv(block.file().size(), block.blockSize());
        List<PeerAddress> partial = new ArrayList<>();
        for (PeerAddress holder : holders.holdersOf(index)) {
            if (holders.byMember().get(holder).cardinality() < blocks) {
                partial.add(holder);
            }
        }
        return partial;
    }

    /**
     * The block's first {@link #HOLDER_TRIES} live ranks but this member: its owner and the members
     * that owned it before the group last grew, the likeliest holders when the holder list is wrong.
     */
    private List<PeerAddress> memoryRanks(FileVersion file, long index) {
        List<PeerAddress> ranks = new ArrayList<>(Rendezvous.rank(membership.liveMembers(),
                Rendezvous.blockKey(file, index)));
        ranks.remove(membership.self());
        return ranks.subList(0, Math.min(HOLDER_TRIES, ranks.size()));
    }

    /** Asks {@code first}, then the least busy of {@code holders}, from memory, up to {@link #HOLDER_TRIES} in all. */
    private boolean fromHolders(BlockRequest request, PeerAddress first, List<PeerAddress> holders,
            Set<PeerAddress> tried, MemorySegment dst) {
        PeerAddress self = membership.self();
        List<PeerAddress> order = new ArrayList<>(holders.size() + 1);
        if (first != null) {
            order.add(first);
        }
        List<PeerAddress> rest = new ArrayList<>(holders);
        java.util.Collections.shuffle(rest); // equally busy holders share the asking
        rest.sort((a, b) -> Integer.compare(inFlight.count(a), inFlight.count(b)));
        order.addAll(rest);
        for (PeerAddress holder : order) {
            if (tried.size() >= HOLDER_TRIES) {
                return false;
            }
            if (holder.equals(self) || !membership.isLive(holder) || !tried.add(holder)) {
                continue;
            }
            PeerFetch answer = fetch(holder, request, dst);
            if (answer instanceof PeerFetch.Fetched) {
                return true;
            }
            if (answer instanceof PeerFetch.NotThere) {
                lookup.notHeld(request.file(), holder, request.index());
            }
        }
        return false;
    }

    private Semaphore turn(PeerAddress peer) {
        if (turns.size() >= MAX_ORDERS) {
            turns.clear(); // members come and go: a fetch holding an old turn still releases that one
        }
        return turns.computeIfAbsent(peer, p -> new Semaphore(1, true));
    }

    private PeerFetch fetch(PeerAddress peer, BlockRequest request, MemorySegment dst) {
        FileVersion file = request.file();
        OptionalInt ownDigest = digests.of(file, request.index());
        OptionalInt digest = ownDigest.isPresent() ? ownDigest : lookup.digest(file, request.index());
        SwarmOrder order = orders.get(file);
        Semaphore turn = order != null && request.mode() == BlockRequest.Mode.MEMORY && order.oneAtATimeFrom(peer)
                ? turn(peer) : null;
        if (turn != null && !turn.tryAcquire()) {
            try {
                if (!turn.tryAcquire(TURN_WAIT_NANOS, TimeUnit.NANOSECONDS)) {
                    turn = null; // waited long enough: ask beside the fetch in progress
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new PeerFetch.Failed(PeerFetch.Kind.TIMEOUT, "interrupted while waiting to fetch from " + peer);
            }
        }
        inFlight.begin(peer);
        Arrival arrival = arrivals.begin(file, request.index(), peer, dst);
        PeerFetch result = null;
        try {
            result = client.fetch(client.address(peer), request, dst, digest, arrival);
        } finally {
            arrivals.end(arrival, result instanceof PeerFetch.Fetched);
            inFlight.end(peer);
            if (turn != null) {
                turn.release();
            }
        }
        switch (result) {
            case PeerFetch.Fetched fetched -> {
                counters.fetched(peer, fetched.bytes());
                membership.markAlive(peer);
                if (digest.isPresent() && ownDigest.isEmpty()) {
                    digests.record(file, request.blockSize(), request.index(), digest.getAsInt()); // verified
                }
            }
            case PeerFetch.NotThere notThere -> counters.count(PeerResults.Answer.NOT_THERE);
            case PeerFetch.Redirected redirected -> counters.count(PeerResults.Answer.REDIRECTED);
            case PeerFetch.Failed failed -> {
                counters.failed(failed.kind());
                client.forget(peer); // an address may have moved (a rescheduled pod)
                membership.markFailed(peer, failed);
                if (failed.kind() == PeerFetch.Kind.BAD_DIGEST) {
                    logWrongBytes(peer, failed, ownDigest.isPresent());
                } else {
                    logOnce(peer, failed);
                }
            }
        }
        return result;
    }

    private void logWrongBytes(PeerAddress peer, PeerFetch.Failed failed, boolean ownDigest) {
        if (reportedWrongBytes.add(peer)) {
            LOG.error("peer {} sent wrong bytes: {} (the digest is {}); its block was not used, and the peer is"
                    + " skipped for a while (reported once per peer)", peer, failed.reason(),
                    ownDigest ? "this member's own, from its source read" : "the version's trackers'");
        }
    }

    private void logOnce(PeerAddress peer, PeerFetch.Failed failed) {
        boolean first;
        synchronized (logged) {
            first = logged.put(failed.kind(), Boolean.TRUE) == null;
        }
        if (first || failed.kind() == PeerFetch.Kind.BAD_CHECKSUM) {
            LOG.warn("peer {} failed ({}): {}; skipping it for a while", peer, failed.kind(), failed.reason());
        }
    }
}
