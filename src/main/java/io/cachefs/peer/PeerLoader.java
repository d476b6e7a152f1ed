package io.cachefs.peer;

import io.cachefs.cache.BlockKey;
import io.cachefs.cache.BlockLoader;
import io.cachefs.cache.BlockOrigin;
import io.cachefs.cache.BlockReader;
import io.cachefs.cache.SourceLoader;
import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where a block missing from local memory comes from in a peer group: the block cache's loader.
 *
 * <ol>
 *   <li>The live members ranked by rendezvous hashing of the block's key are its owners, best
 *       first. The first {@link #MEMORY_RANKS} of them are asked for a memory-only copy: the
 *       top one owns the block now, the next ones owned it before the group last grew.
 *   <li>Nobody had it: the top-ranked owner is asked to load it, so the source is read once for
 *       the whole group (its cache's singleflight merges every member's request). If that owner
 *       fails, the next rank is asked, until this instance itself is the best live owner.
 *   <li>Then, and when every peer failed, this instance reads the source itself.
 * </ol>
 *
 * A peer that times out, refuses or answers garbage is marked failed and skipped for a back-off
 * ({@link Membership#markFailed}), so a requester waits on a dead or slow peer at most once per
 * back-off. A load that a peer asked of this instance as the owner is never forwarded again
 * (the cache passes {@code ownerLoad}): two members that disagree on the ring cannot bounce a
 * request forever.
 *
 * <p>The cache loads in streams; each stream's reader keeps its own source handle for the
 * blocks that end up coming from the source, opened only if one does.
 */
public final class PeerLoader implements BlockLoader {
    private static final Logger LOG = LoggerFactory.getLogger(PeerLoader.class);
    /** The owner and the two members that owned the block before the group grew by one or two. */
    static final int MEMORY_RANKS = 3;

    private final Membership membership;
    private final PeerClient memoryClient;
    private final PeerClient loadClient;
    private final SourceLoader source;
    private final Map<PeerAddress, InetSocketAddress> resolved = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> results = new ConcurrentHashMap<>();
    private final Map<PeerFetch.Kind, Boolean> logged = new EnumMap<>(PeerFetch.Kind.class);

    /**
     * @param memoryClient for memory-only requests: answered at once or not at all, so a short timeout
     * @param loadClient   for owner loads, which wait for the owner's own source read
     */
    public PeerLoader(Membership membership, PeerClient memoryClient, PeerClient loadClient, Source source) {
        this.membership = membership;
        this.memoryClient = memoryClient;
        this.loadClient = loadClient;
        this.source = new SourceLoader(source);
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
                return BlockOrigin.SOURCE;
            }

            @Override
            public void close() {
                fromSource.close();
            }
        };
    }

    /** Tries the owners' memory, then (unless this is itself an owner load) the owners' loads. */
    private boolean fromPeers(BlockKey block, MemorySegment dst, boolean ownerLoad) {
        PeerAddress self = membership.self();
        List<PeerAddress> owners = Rendezvous.rank(membership.liveMembers(),
                Rendezvous.blockKey(block.file(), block.index()));
        BlockRequest fromMemory = new BlockRequest(block.file(), block.index(), block.blockSize(),
                BlockRequest.Mode.MEMORY);
        for (PeerAddress owner : owners.subList(0, Math.min(MEMORY_RANKS, owners.size()))) {
            if (!owner.equals(self) && fetch(owner, fromMemory, dst, memoryClient)) {
                return true;
            }
        }
        if (!ownerLoad) {
            BlockRequest loadIt = new BlockRequest(block.file(), block.index(), block.blockSize(),
                    BlockRequest.Mode.LOAD);
            for (PeerAddress owner : owners) {
                if (owner.equals(self)) {
                    break; // this instance is the best live owner: it reads the source for the group
                }
                if (fetch(owner, loadIt, dst, loadClient)) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean fetch(PeerAddress peer, BlockRequest request, MemorySegment dst, PeerClient client) {
        InetSocketAddress address = resolved.computeIfAbsent(peer, PeerAddress::toSocketAddress);
        PeerFetch result = client.fetch(address, request, dst);
        switch (result) {
            case PeerFetch.Fetched fetched -> {
                count("fetched");
                return true;
            }
            case PeerFetch.NotThere notThere -> {
                count("not_there");
                return false;
            }
            case PeerFetch.Failed failed -> {
                count(failed.kind().name().toLowerCase(Locale.ROOT));
                resolved.remove(peer); // an address may have moved (a rescheduled pod)
                membership.markFailed(peer);
                logOnce(peer, failed);
                return false;
            }
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

    private void count(String result) {
        results.computeIfAbsent(result, r -> new LongAdder()).increment();
    }

    /** Requests made to peers so far, by result ("fetched", "not_there", "timeout", ...). */
    public Map<String, Long> requestsByResult() {
        Map<String, Long> snapshot = new HashMap<>();
        results.forEach((result, count) -> snapshot.put(result, count.sum()));
        return snapshot;
    }
}
