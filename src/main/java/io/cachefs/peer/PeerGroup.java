package io.cachefs.peer;

import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLoader;
import io.cachefs.source.Source;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * This instance's membership of a peer group, assembled: who the members are, the loader that
 * asks them before the source, and the server that answers them from this instance's cache.
 */
public final class PeerGroup implements AutoCloseable {
    /** A peer on the same network answers a connect at once; a dead one must cost little. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
    /** Memory-only answers need no I/O: anything slower is a peer in trouble. */
    private static final Duration MEMORY_TIMEOUT = Duration.ofSeconds(2);
    /** An owner load waits for the owner's own source read, shared with the whole group's. */
    private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(20);

    private final PeerAddress listen;
    private final PeerToken token;
    private final Membership membership;
    private final PeerClient memoryClient;
    private final PeerClient loadClient;
    private final PeerLoader loader;
    private volatile BlockServer server;

    private PeerGroup(PeerAddress listen, PeerToken token, Membership membership, Source source) {
        this.listen = listen;
        this.token = token;
        this.membership = membership;
        this.memoryClient = new PeerClient(token, CONNECT_TIMEOUT, MEMORY_TIMEOUT);
        this.loadClient = new PeerClient(token, CONNECT_TIMEOUT, LOAD_TIMEOUT);
        this.loader = new PeerLoader(membership, memoryClient, loadClient, source);
    }

    /** Joins the group described by {@code spec}, as the member serving on {@code listen}. */
    public static PeerGroup join(PeerAddress listen, PeerSpec spec, PeerToken token, Source source) {
        return new PeerGroup(listen, token, new Membership(spec, listen), source);
    }

    /** The cache's loader: peers' memory, then the owner's load, then the source. */
    public BlockLoader loader() {
        return loader;
    }

    /** Starts answering peers from {@code cache}. */
    public void serve(BlockCache cache, Source source) throws IOException {
        server = BlockServer.start(new InetSocketAddress(listen.host(), listen.port()), new CachedBlocks(cache, source),
                token);
    }

    public Map<String, Long> requestsByResult() {
        return loader.requestsByResult();
    }

    public long servedBytes() {
        BlockServer running = server;
        return running == null ? 0 : running.servedBytes();
    }

    public List<Membership.MemberStatus> members() {
        return membership.status();
    }

    @Override
    public void close() {
        BlockServer running = server;
        if (running != null) {
            running.close();
        }
        memoryClient.close();
        loadClient.close();
        membership.close();
    }
}
