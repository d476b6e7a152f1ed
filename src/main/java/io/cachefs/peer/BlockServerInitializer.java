package io.cachefs.peer;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of one peer connection, and nothing else.
 *
 * <p>A connection serves one request at a time: {@link BlockRequestHandler} turns auto-read
 * off when a request arrives and back on once its response is written, and the
 * {@link FlowControlHandler} holds back requests a client pipelined in the same segment. So
 * responses cannot overtake each other, at most one block per connection is pinned for a
 * write, and a client that does not read its responses stops being read.
 */
final class BlockServerInitializer extends ChannelInitializer<SocketChannel> {

    private final BlockRequestHandler handler;
    private final Duration idleTimeout;
    /** Every open connection, so that the server can close them all. */
    private final ChannelGroup connections;

    BlockServerInitializer(BlockRequestHandler handler, Duration idleTimeout,
            ChannelGroup connections) {
        this.handler = handler;
        this.idleTimeout = idleTimeout;
        this.connections = connections;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        connections.add(channel);
        ChannelPipeline pipeline = channel.pipeline();
        // First, so that it sees raw bytes: a client that trickles bytes or stops reading
        // its response is closed once neither direction moves for the whole timeout.
        pipeline.addLast(new IdleStateHandler(true, 0, 0, idleTimeout.toMillis(),
                TimeUnit.MILLISECONDS));
        pipeline.addLast(new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(WireFormat.MAX_INITIAL_LINE)
                .setMaxHeaderSize(WireFormat.MAX_HEADER_SIZE)));
        pipeline.addLast(new HttpObjectAggregator(WireFormat.MAX_REQUEST_CONTENT));
        pipeline.addLast(new FlowControlHandler());
        pipeline.addLast(handler);
    }
}
