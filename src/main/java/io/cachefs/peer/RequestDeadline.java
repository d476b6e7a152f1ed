package io.cachefs.peer;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The time a client has to send one whole request, counted from its connect and then from the
 * first byte of each next request. An idle timeout alone does not shed a slow-loris client: each
 * byte it trickles counts as activity. This deadline does not move for bytes, only for a complete
 * request, so a trickler is closed (and counted) after it, however it spaces its bytes; an
 * idle keep-alive connection between requests is left to the idle timeout.
 *
 * <p>Per connection (stateful): two handlers around the HTTP decoders share it, {@link #bytes()}
 * before them (a request starts) and {@link #requests()} after them (it is complete).
 */
final class RequestDeadline {

    private final Duration deadline;
    private final Runnable onTimeout;
    /** Pending while a request is on its way; touched on the channel's event loop only. */
    private ScheduledFuture<?> timer;

    RequestDeadline(Duration deadline, Runnable onTimeout) {
        this.deadline = deadline;
        this.onTimeout = onTimeout;
    }

    /** Starts the clock at connect and at the first bytes of each request. */
    ChannelHandler bytes() {
        return new ChannelDuplexHandler() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) throws Exception {
                start(ctx);
                super.channelActive(ctx);
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
                if (timer == null) {
                    start(ctx);
                }
                super.channelRead(ctx, msg);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) throws Exception {
                stop();
                super.channelInactive(ctx);
            }
        };
    }

    /** Stops the clock when a whole request has been decoded. */
    ChannelHandler requests() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
                if (msg instanceof FullHttpRequest) {
                    stop();
                }
                super.channelRead(ctx, msg);
            }
        };
    }

    private void start(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            if (timer != null && ctx.channel().isActive()) {
                onTimeout.run();
                ctx.close();
            }
        }, deadline.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
