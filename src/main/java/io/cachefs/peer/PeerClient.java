package io.cachefs.peer;

import io.cachefs.peer.BlockResponseHandler.Exchange;
import io.cachefs.peer.BlockResponseHandler.Outcome;
import io.cachefs.peer.PeerFetch.Failed;
import io.cachefs.peer.PeerFetch.Kind;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.pool.AbstractChannelPoolHandler;
import io.netty.channel.pool.AbstractChannelPoolMap;
import io.netty.channel.pool.ChannelHealthChecker;
import io.netty.channel.pool.FixedChannelPool;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches blocks from peers' {@link BlockServer}s for a loader thread.
 *
 * <h2>Connections</h2>
 * One small event loop group (two threads) for all peers, and a pool of keep-alive
 * connections per peer, so that a block costs one round trip, not a handshake. A connection
 * is given back to its pool only after a complete, well-formed answer; one that failed,
 * timed out or carried a bad checksum is closed, never reused. A pooled connection the peer
 * closed while idle is noticed at acquire (not active) or, in a race, when the request meets
 * a closed socket before any answer: the request is then sent once more on a new connection
 * (it is a GET: safe to repeat).
 *
 * <h2>Memory</h2>
 * The body is copied from the socket buffers straight into the caller's destination, usually
 * the cache's own memory for the block, as it arrives ({@link BlockResponseHandler}). The
 * caller then checks the CRC32C over the destination, in its own thread, off the event loop.
 *
 * <h2>Time</h2>
 * {@link #fetch} blocks its caller, a loader thread, for at most the request timeout from
 * acquiring a connection to the last byte. On timeout the exchange is abandoned on the event
 * loop before fetch returns, so no late byte can land in a destination the caller has moved
 * on from, and the connection is closed.
 *
 * <p>Peer trouble never throws: it is a {@link PeerFetch} value, and the caller's next step
 * (another peer, or the source) is the same whatever it was.
 */
public final class PeerClient implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerClient.class);

    private static final int EVENT_LOOP_THREADS = 2;
    /**
     * Loader threads and demand reads together rarely ask one peer for more blocks at once;
     * beyond this they queue for a connection rather than open more.
     */
    private static final int MAX_CONNECTIONS_PER_PEER = 16;
    /** Responses are a status line and four headers, or a short error line. */
    private static final int MAX_RESPONSE_HEAD = 8 * 1024;
    /** Larger body chunks mean fewer handler calls per block; the socket reads decide anyway. */
    private static final int MAX_CHUNK = 1024 * 1024;
    /**
     * Socket reads of up to 1 MiB: a block is megabytes, and Netty's default of at most 64 KiB per
     * read means sixty-four reads, decoder passes and handler calls per 4 MiB block.
     */
    private static final AdaptiveRecvByteBufAllocator RECEIVE_BUFFERS =
            new AdaptiveRecvByteBufAllocator(64 * 1024, 256 * 1024, 1024 * 1024);

    private final PeerToken token;
    private final Duration requestTimeout;
    private final EventLoopGroup group;
    private final AbstractChannelPoolMap<InetSocketAddress, FixedChannelPool> pools;
    /** Peers whose bad checksum was logged: one error per peer, not one per block. */
    private final Set<InetSocketAddress> reportedCorrupt = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    public PeerClient(PeerToken token, Duration connectTimeout, Duration requestTimeout) {
        this.token = token;
        this.requestTimeout = requestTimeout;
        this.group = new MultiThreadIoEventLoopGroup(EVENT_LOOP_THREADS,
                new DefaultThreadFactory("cachefs-peer-client", true), NioIoHandler.newFactory());
        Bootstrap bootstrap = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_BUFFERS);
        this.pools = new AbstractChannelPoolMap<>() {
            @Override
            protected FixedChannelPool newPool(InetSocketAddress peer) {
                return new FixedChannelPool(bootstrap.clone().remoteAddress(peer),
                        new AbstractChannelPoolHandler() {
                            @Override
                            public void channelCreated(Channel channel) {
                                channel.pipeline().addLast(new HttpClientCodec(
                                        new HttpDecoderConfig()
                                                .setMaxInitialLineLength(MAX_RESPONSE_HEAD)
                                                .setMaxHeaderSize(MAX_RESPONSE_HEAD)
                                                .setMaxChunkSize(MAX_CHUNK),
                                        false, false));
                                channel.pipeline().addLast(new BlockResponseHandler());
                            }
                        },
                        ChannelHealthChecker.ACTIVE, FixedChannelPool.AcquireTimeoutAction.FAIL,
                        requestTimeout.toMillis(), MAX_CONNECTIONS_PER_PEER, Integer.MAX_VALUE,
                        true, true);
            }
        };
    }

    /**
     * Fetches {@code request}'s block from {@code peer} into {@code dst} and verifies its
     * CRC32C. Blocks the calling thread until done or the request timeout.
     *
     * @param dst exactly {@link BlockRequest#length()} bytes; on anything but
     *     {@link PeerFetch.Fetched} its content is undefined
     * @throws IllegalArgumentException if {@code dst} is not the block's length
     */
    public PeerFetch fetch(InetSocketAddress peer, BlockRequest request, MemorySegment dst) {
        if (dst.byteSize() != request.length()) {
            throw new IllegalArgumentException("destination of " + dst.byteSize()
                    + " bytes for a block of " + request.length());
        }
        if (closed.get()) {
            return new Failed(Kind.ERROR, "the peer client is closed");
        }
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        FixedChannelPool pool = pools.get(peer);
        Outcome outcome = exchange(pool, peer, request, dst, deadline);
        if (outcome.retry()) {
            outcome = exchange(pool, peer, request, dst, deadline);
        }
        return outcome.fetch();
    }

    /** One request on one pooled connection; the connection is back in the pool or closed. */
    private Outcome exchange(FixedChannelPool pool, InetSocketAddress peer, BlockRequest request,
            MemorySegment dst, long deadline) {
        Future<Channel> acquired = pool.acquire();
        try {
            if (!acquired.await(remaining(deadline), TimeUnit.NANOSECONDS)) {
                acquired.addListener(late -> {
                    if (late.isSuccess()) {
                        pool.release((Channel) late.getNow());
                    }
                });
                return Outcome.failed(Kind.TIMEOUT, "no connection to " + peer + " within "
                        + requestTimeout.toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            acquired.addListener(late -> {
                if (late.isSuccess()) {
                    pool.release((Channel) late.getNow());
                }
            });
            return Outcome.failed(Kind.ERROR, "interrupted");
        }
        if (!acquired.isSuccess()) {
            return connectFailure(peer, acquired.cause());
        }
        Channel channel = acquired.getNow();
        BlockResponseHandler handler = channel.pipeline().get(BlockResponseHandler.class);
        Exchange exchange = new Exchange(dst);
        FullHttpRequest http = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                request.uri());
        http.headers()
                .set(HttpHeaderNames.HOST, peer.getHostString() + ":" + peer.getPort())
                .set(HttpHeaderNames.AUTHORIZATION, token.authorization());
        try {
            channel.eventLoop().execute(() -> {
                handler.begin(exchange);
                channel.writeAndFlush(http).addListener((ChannelFuture written) -> {
                    if (!written.isSuccess()) {
                        handler.writeFailed(channel.pipeline().context(handler), written.cause());
                    }
                });
            });
        } catch (RejectedExecutionException e) {
            channel.close();
            return Outcome.failed(Kind.ERROR, "the peer client is closing");
        }
        Outcome outcome;
        try {
            outcome = exchange.done.get(remaining(deadline), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            abandon(channel, handler, pool);
            return Outcome.failed(Kind.TIMEOUT, "no complete answer from " + peer + " within "
                    + requestTimeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(channel, handler, pool);
            return Outcome.failed(Kind.ERROR, "interrupted");
        } catch (ExecutionException e) {
            abandon(channel, handler, pool);
            return Outcome.failed(Kind.ERROR, "unexpected failure: " + e.getCause());
        }
        if (outcome.crc() != null && !checksumMatches(dst, outcome.crc())) {
            if (reportedCorrupt.add(peer)) {
                LOG.error("peer {} sent block {} of {} with a wrong CRC32C; its blocks are"
                        + " treated as misses (reported once per peer)", peer, request.index(),
                        request.file().path());
            }
            outcome = Outcome.failed(Kind.BAD_CHECKSUM, "CRC32C mismatch from " + peer);
        }
        if (outcome.keepConnection()) {
            pool.release(channel);
        } else {
            channel.close().addListener(closedChannel -> pool.release(channel));
        }
        return outcome;
    }

    /**
     * Makes sure nothing more is written into the exchange's destination, then closes the
     * connection. Waits for the event loop, which never blocks, so this is quick.
     */
    private static void abandon(Channel channel, BlockResponseHandler handler,
            FixedChannelPool pool) {
        try {
            channel.eventLoop().submit(handler::abandon).awaitUninterruptibly();
        } catch (RejectedExecutionException e) {
            // the client is closing: its event loop has stopped and writes nothing more
        }
        channel.close().addListener(closedChannel -> pool.release(channel));
    }

    private static boolean checksumMatches(MemorySegment bytes, String expected) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.asByteBuffer());
        return WireFormat.formatCrc((int) crc.getValue()).equalsIgnoreCase(expected);
    }

    private static Outcome connectFailure(InetSocketAddress peer, Throwable cause) {
        if (cause instanceof ConnectTimeoutException || cause instanceof TimeoutException) {
            return Outcome.failed(Kind.TIMEOUT, "connecting to " + peer + " timed out");
        }
        if (cause instanceof ConnectException || cause instanceof NoRouteToHostException) {
            return Outcome.failed(Kind.REFUSED, "cannot connect to " + peer + ": "
                    + cause.getMessage());
        }
        return Outcome.failed(Kind.ERROR, "cannot connect to " + peer + ": " + cause);
    }

    private static long remaining(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    /** Closes every pooled connection and stops the threads. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        pools.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
