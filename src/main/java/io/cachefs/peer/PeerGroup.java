package io.cachefs.peer;

import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLoader;
import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import io.cachefs.stats.Counts;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * This instance's membership of a peer group, assembled: who the members are, the loader that
 * asks them before the source, the trackers' holder lists and this member's announcements to
 * them, and the server that answers them from this instance's cache.
 */
public final class PeerGroup implements AutoCloseable {
    /** A peer on the same network answers a connect at once; a dead one must cost little. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /** Memory-only answers need no I/O: anything slower to start is a peer in trouble. */
    private static final Duration MEMORY_TIMEOUT = Duration.ofSeconds(2);
    /** An owner load waits for the owner's own source read, shared with the whole group's. */
    private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(20);

    private final PeerAddress listen;
    private final PeerToken token;
    /** The group's TLS, or null for plain TCP. */
    private final PeerTls tls;
    private final Membership membership;
    private final PeerClient client;
    private final HolderDirectory directory = new HolderDirectory(System::nanoTime);
    /** CRC32Cs of blocks this member read from the source or verified: checked against, and announced. */
    private final KnownDigests digests = new KnownDigests();
    /** Blocks arriving from peers now: passed on while they arrive, and announced as held. */
    private final Arrivals arrivals = new Arrivals();
    private final Tracker tracker;
    private final HolderLookup lookup;
    private final PeerCounters counters = new PeerCounters();
    private final int blockSize;
    private final PeerLoader loader;
    private volatile BlockServer server;
    private volatile Announcer announcer;

    private PeerGroup(PeerAddress listen, PeerToken token, PeerTls tls, Membership membership, Source source,
            int blockSize) {
        this.listen = listen;
        this.token = token;
        this.tls = tls;
        this.membership = membership;
        this.blockSize = blockSize;
        ChecksumWarmUp.start();
        this.client = new PeerClient(token, tls, CONNECT_TIMEOUT, MEMORY_TIMEOUT, LOAD_TIMEOUT);
        client.identifyAs(membership.self());
        // a member that left holds nothing any more; one that comes back at its address starts empty
        membership.onLeave(directory::forget);
        this.tracker = new Tracker(membership, directory, client, client::address, digests);
        this.lookup = new HolderLookup(membership, tracker, client, client::address);
        this.loader = new PeerLoader(membership, client, lookup, counters, digests, arrivals, source, blockSize);
    }

    /** Joins the group described by {@code spec}, as the member serving on {@code listen}. */
    public static PeerGroup join(PeerAddress listen, PeerSpec spec, PeerToken token, Source source, int blockSize) {
        return join(listen, spec, token, Optional.empty(), source, blockSize);
    }

    /** Joins the group, speaking mutual TLS with its members if {@code tls} is given. */
    public static PeerGroup join(PeerAddress listen, PeerSpec spec, PeerToken token, Optional<PeerTls> tls,
            Source source, int blockSize) {
        return new PeerGroup(listen, token, tls.orElse(null), new Membership(spec, listen), source, blockSize);
    }

    /** The cache's loader: holders' memory, then the owner's load, then the source. */
    public BlockLoader loader() {
        return loader;
    }

    /** Starts answering peers from {@code cache}, and telling trackers what it holds. */
    public void serve(BlockCache cache, Source source) throws IOException {
        CachedBlocks blocks = new CachedBlocks(cache, source, arrivals);
        tracker.serving(blocks);
        server = BlockServer.start(new InetSocketAddress(listen.host(), listen.port()), blocks, holders(blocks),
                token, tls, BlockServer.Limits.DEFAULT);
        PortWarmUp.run(client, client.address(membership.self()), blockSize);
        announcer = new Announcer(membership, tracker, blocks, digests, client);
    }

    /** The group side of the server: this member's tracker, and its holder lists for redirects. */
    private GroupHolders holders(LocalBlocks blocks) {
        return new GroupHolders() {
            @Override
            public Holdings own(FileVersion file) {
                return tracker.ownHoldings(file);
            }

            @Override
            public Holdings tracked(FileVersion file, int size) {
                return tracker.holdings(file, size);
            }

            @Override
            public void announced(PeerAddress member, Announcement announcement) {
                directory.record(member, announcement);
            }

            @Override
            public Arrival arriving(FileVersion file, long index) {
                return arrivals.headed(file, index);
            }

            /**
             * Only members that do not hold the whole file: a warm member's uplink is the group's
             * scarcest, so an owner asked for a block only a warm member holds fetches it once
             * itself and serves every asker, rather than sending them all to the warm member.
             */
            @Override
            public List<PeerAddress> holdersOf(FileVersion file, int size, long index) {
                List<PeerAddress> holders = new java.util.ArrayList<>();
                PeerAddress self = membership.self();
                Holdings known = lookup.fresh(file, size);
                long blocks = Math.ceilDiv(file.size(), size);
                for (PeerAddress holder : known.holdersOf(index)) {
                    if (!holder.equals(self) && membership.isLive(holder)
                            && known.byMember().get(holder).cardinality() < blocks) {
                        holders.add(holder);
                    }
                }
                return holders;
            }
        };
    }

    /** What the block requests this member made came to, by answer and by kind of failure. */
    public PeerResults results() {
        return counters.results();
    }

    /** Block bytes fetched from each peer, by its name. */
    public Map<String, Long> fetchedBytesByPeer() {
        return counters.fetchedBytesByPeer();
    }

    /** Owner loads each peer answered with "ask these members", by its name. */
    public Map<String, Long> redirectsByPeer() {
        return counters.redirectsByPeer();
    }

    public long servedBytes() {
        BlockServer running = server;
        return running == null ? 0 : running.servedBytes();
    }

    /** Of {@link #servedBytes}, those sent while the block still arrived here from another member. */
    public long passedOnBytes() {
        BlockServer running = server;
        return running == null ? 0 : running.passedOnBytes();
    }

    /** What the peer port turned away, by event; all zero before it serves. */
    public Counts<PortEvent> portEvents() {
        BlockServer running = server;
        return running == null ? Counts.zero(PortEvent.class) : running.stats().portEvents();
    }

    /** Block bytes served to each peer that named itself. */
    public Map<String, Long> servedBytesByPeer() {
        BlockServer running = server;
        return running == null ? Map.of() : running.servedBytesByPeer();
    }

    public List<Membership.MemberStatus> members() {
        return membership.status();
    }

    @Override
    public void close() {
        Announcer announcing = announcer;
        if (announcing != null) {
            announcing.close();
        }
        BlockServer running = server;
        if (running != null) {
            running.close();
        }
        lookup.close();
        tracker.close();
        client.close();
        membership.close();
    }
}
