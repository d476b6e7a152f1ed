package io.cachefs.peer;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline of one peer connection, and nothing else.
 *
 * <p>A connection serves one request at a time: {@link BlockRequestHandler} turns auto-read
 * off when a request arrives and back on once its response is written, and the
 * {@link FlowControlHandler} holds back requests a client pipelined in the same segment. So
 * responses cannot overtake each other, at most one block per connection is pinned for a
 * write, and a client that does not read its responses stops being read.
 *
 * <p>{@link TlsHandoff} comes first and leaves at the first bytes: with the group's TLS it puts
 * the {@link io.netty.handler.ssl.SslHandler} there (mutual TLS), so every handler after it sees
 * plaintext, and the request deadline, running from the connect, covers the handshake; on either
 * kind of port it turns away a client that speaks the other.
 */
final class BlockServerInitializer extends ChannelInitializer<Channel> {

    private static final Logger LOG = LoggerFactory.getLogger(BlockServerInitializer.class);

    private final BlockRequestHandler handler;
    private final BlockServer.Limits limits;
    private final ConnectionCap cap;
    /** Every open connection, so that the server can close them all. */
    private final ChannelGroup connections;
    private final ServedCounters counters;
    /** The group's TLS, or null for plain TCP. */
    private final PeerTls tls;
    /** The first refused session is logged; the rest are only counted (a misconfigured member retries often). */
    private final AtomicBoolean refusalLogged = new AtomicBoolean();

    BlockServerInitializer(BlockRequestHandler handler, BlockServer.Limits limits, ConnectionCap cap,
            ChannelGroup connections, ServedCounters counters, PeerTls tls) {
        this.tls = tls;
        this.handler = handler;
        this.limits = limits;
        this.cap = cap;
        this.connections = connections;
        this.counters = counters;
    }

    @Override
    protected void initChannel(Channel channel) {
        if (!cap.admit(channel)) {
            counters.portEvents.increment(PortEvent.CONNECTION_REJECTED);
            channel.close(); // before a pipeline or a read: it costs its descriptor for a moment only
            return;
        }
        connections.add(channel);
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addLast(new TlsHandoff(tls, why -> refused(channel, why)));
        // First, so that they see raw bytes: a client that stops reading its response is closed
        // once neither direction moves for the idle timeout, and one that trickles a request
        // once the request deadline passes, however often a byte comes.
        pipeline.addLast(new IdleStateHandler(true, 0, 0, limits.idleTimeout().toMillis(),
                TimeUnit.MILLISECONDS));
        RequestDeadline deadline = new RequestDeadline(limits.requestDeadline(),
                () -> counters.portEvents.increment(PortEvent.REQUEST_TIMEOUT));
        pipeline.addLast(deadline.bytes());
        pipeline.addLast(new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(WireFormat.MAX_INITIAL_LINE)
                .setMaxHeaderSize(WireFormat.MAX_HEADER_SIZE)));
        pipeline.addLast(new HttpObjectAggregator(WireFormat.MAX_REQUEST_CONTENT));
        pipeline.addLast(deadline.requests());
        pipeline.addLast(new FlowControlHandler());
        pipeline.addLast(handler);
    }

    private void refused(Channel channel, String why) {
        counters.portEvents.increment(PortEvent.TLS_REFUSED);
        if (refusalLogged.compareAndSet(false, true)) {
            LOG.warn("refused a peer connection from {}: {}; are all members started with --peer-tls-*? (further "
                    + "refusals are only counted: cachefs_peer_port_events_total{event=\"tls_refused\"})",
                    channel.remoteAddress(), why);
        }
    }
}
