package io.cachefs.peer;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Serves this instance's blocks to its peers over HTTP/1.1 ({@link WireFormat}).
 *
 * <p>Three classes, as in the Netty examples: this bootstrap binds the port and owns the
 * threads, {@link BlockServerInitializer} builds each connection's pipeline, and
 * {@link BlockRequestHandler} answers requests.
 *
 * <h2>Threads</h2>
 * Two event loop threads (the machines have few cores, and the event loops only parse
 * requests and hand memory to the kernel). No event loop ever waits: every lookup, even a
 * memory-only one, runs on a virtual thread, because finding out whether a version is
 * current may stat the source, and a load may take seconds. The answer is written back on the
 * channel's event loop.
 *
 * <h2>Memory</h2>
 * A block is sent straight from the cache's memory, pinned by its lease until the socket
 * write completes. Connections read one request at a time, so a slow or hostile client costs
 * one channel and a bounded buffer, never a queue of pinned blocks.
 *
 * <h2>Misuse</h2>
 * The port holds a capped number of connections, per client address and in all; a request must
 * arrive whole within a deadline however its bytes are spaced; a silent connection is closed
 * after the idle timeout ({@link Limits}). So no client, with the token or without, can take the
 * descriptors the daemon's reads need, or hold connections by trickling bytes.
 *
 * <h2>Trust</h2>
 * With {@code --peer-tls-*}, a connection must first complete a mutual TLS handshake with a
 * certificate that chains to the group's anchors ({@link PeerTls}, {@link TlsHandoff}).
 * Every request must be signed with the group's {@link PeerToken}; the path is checked after decoding and
 * again by the source, and a peer never serves a version of a file that is not current.
 */
public final class BlockServer implements AutoCloseable {

    /** Long enough for a peer to pause between blocks, short enough to shed dead clients. */
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** A request is a few hundred bytes: a member sends it at once; only a slow-loris client needs longer. */
    static final Duration DEFAULT_REQUEST_DEADLINE = Duration.ofSeconds(5);

    /**
     * What the port bears from each connection and in all ({@link ConnectionCap}, {@link RequestDeadline}).
     *
     * @param idleTimeout a connection that moves no byte either way this long is closed
     * @param requestDeadline a request must arrive whole this long after its first byte (or the connect)
     */
    record Limits(Duration idleTimeout, Duration requestDeadline, int connectionsPerAddress, int connections) {
        static final Limits DEFAULT = new Limits(DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_DEADLINE,
                ConnectionCap.DEFAULT_PER_ADDRESS, ConnectionCap.DEFAULT_TOTAL);

        Limits withIdleTimeout(Duration timeout) {
            return new Limits(timeout, requestDeadline, connectionsPerAddress, connections);
        }
    }
    private static final int EVENT_LOOP_THREADS = 2;

    private final EventLoopGroup group;
    private final Channel listener;
    private final ChannelGroup connections;
    private final ExecutorService lookups;
    private final ServedCounters counters;
    private final AtomicBoolean closed = new AtomicBoolean();

    private BlockServer(EventLoopGroup group, Channel listener, ChannelGroup connections,
            ExecutorService lookups, ServedCounters counters) {
        this.group = group;
        this.listener = listener;
        this.connections = connections;
        this.lookups = lookups;
        this.counters = counters;
    }

    /**
     * Binds {@code listen} (port 0 picks a free port) and starts serving {@code blocks} to
     * peers that present {@code token}.
     *
     * @throws BindException with a message a user can act on if the address cannot be bound
     */
    public static BlockServer start(InetSocketAddress listen, LocalBlocks blocks, PeerToken token)
            throws IOException {
        return start(listen, blocks, token, DEFAULT_IDLE_TIMEOUT);
    }

    static BlockServer start(InetSocketAddress listen, LocalBlocks blocks, PeerToken token,
            Duration idleTimeout) throws IOException {
        return start(listen, blocks, token, Limits.DEFAULT.withIdleTimeout(idleTimeout));
    }

    static BlockServer start(InetSocketAddress listen, LocalBlocks blocks, PeerToken token, Limits limits)
            throws IOException {
        return start(listen, blocks, token, null, limits);
    }

    /** A server alone in its group, speaking mutual TLS with {@code tls} (or plain TCP if null). */
    static BlockServer start(InetSocketAddress listen, LocalBlocks blocks, PeerToken token, PeerTls tls, Limits limits)
            throws IOException {
        PeerAddress self = new PeerAddress(listen.getHostString(), Math.max(1, listen.getPort()));
        return start(listen, blocks, GroupHolders.alone(blocks, self), token, tls, limits);
    }

    /** A server of a group member: it also answers for the group's holder lists and redirects. */
    static BlockServer start(InetSocketAddress listen, LocalBlocks blocks, GroupHolders holders, PeerToken token,
            Limits limits) throws IOException {
        return start(listen, blocks, holders, token, null, limits);
    }

    /**
     * A server of a group member, speaking mutual TLS with {@code tls} (or plain TCP if null).
     *
     * @throws BindException with a message a user can act on if the address cannot be bound
     */
    static BlockServer start(InetSocketAddress listen, LocalBlocks blocks, GroupHolders holders, PeerToken token,
            PeerTls tls, Limits limits) throws IOException {
        ServedCounters counters = new ServedCounters();
        ExecutorService lookups = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("cachefs-peer-lookup-", 0).factory());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(EVENT_LOOP_THREADS,
                new DefaultThreadFactory("cachefs-peer-server", true), NioIoHandler.newFactory());
        ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        BlockRequestHandler handler = new BlockRequestHandler(blocks, holders, token, lookups, counters);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new BlockServerInitializer(handler, limits,
                        new ConnectionCap(limits.connectionsPerAddress(), limits.connections()), connections, counters,
                        tls));
        ChannelFuture bound = bootstrap.bind(listen).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            lookups.close();
            var clear = new BindException("peer address " + listen.getHostString() + ":"
                    + listen.getPort() + " cannot be bound (" + bound.cause().getMessage()
                    + "): choose a free port and a local address");
            clear.initCause(bound.cause());
            throw clear;
        }
        return new BlockServer(group, bound.channel(), connections, lookups, counters);
    }

    /** The bound address, with the actual port when 0 was asked for. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Bytes of blocks sent completely since start. */
    public long servedBytes() {
        return counters.servedBytes.sum();
    }

    /** Of {@link #servedBytes}, those sent while the block still arrived here ({@link Arrival}). */
    public long passedOnBytes() {
        return counters.passedOnBytes.sum();
    }

    public BlockServerStats stats() {
        return counters.snapshot();
    }

    /** Bytes of blocks sent to each member that named itself, by its name. */
    java.util.Map<String, Long> servedBytesByPeer() {
        return counters.servedBytesByPeer();
    }

    /**
     * Stops listening, closes every connection, waits a little for lookups in flight (their
     * leases are closed as their writes fail) and stops the threads.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        listener.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly();
        lookups.shutdownNow(); // interrupts loads waiting for another thread's source read
        try {
            lookups.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // The quiet period lets the last write listeners (which close leases) run.
        group.shutdownGracefully(50, 2000, TimeUnit.MILLISECONDS).syncUninterruptibly();
    }
}
