package io.cachefs.peer;

import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;

import io.cachefs.cache.BlockLease;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer to a block request for a block still arriving here from another member ({@link
 * Arrival}): the head at once, with the sender's CRC32C, then each slice as it lands, copied out
 * of the block's memory while the arrival is open, and the rest straight from a pinned lease once
 * the block is in the cache. Should the arrival fail, the connection is closed mid-body: the asker
 * sees a short answer and asks elsewhere, and never keeps the bytes.
 *
 * <p>Runs on the request's lookup thread (a virtual thread), which waits for the bytes to land
 * and for the asker's socket to take them; the writes themselves go out on the channel's event
 * loop in order.
 */
final class CutThroughAnswer {

    private static final Logger LOG = LoggerFactory.getLogger(CutThroughAnswer.class);
    /** Slices of at most this size: what the loader's reads land at a time. */
    private static final int SLICE = 256 * 1024;
    /**
     * How long a block passed on may bring nothing before its answer is given up: only a safety
     * net, since the fetch it arrives by fails itself after a shorter silence, and ends it.
     */
    private static final long ARRIVAL_SILENCE_NANOS = TimeUnit.SECONDS.toNanos(20);
    /** The block is published a moment after its arrival ends; longer, and it was evicted already. */
    private static final long PUBLISH_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private CutThroughAnswer() {
    }

    /**
     * Sends {@code arrival} as the answer to {@code request}; {@code whenSent} hears of the last
     * write (not if the answer was broken off).
     */
    static void send(ChannelHandlerContext ctx, Arrival arrival, BlockRequest request, LocalBlocks blocks,
            boolean keepAlive, ChannelFutureListener whenSent) {
        int length = request.length();
        HttpResponse head = new DefaultHttpResponse(HTTP_1_1, OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, length)
                .set(WireFormat.CRC32C_HEADER, WireFormat.formatCrc(arrival.crc()));
        HttpUtil.setKeepAlive(head, keepAlive);
        Channel channel = ctx.channel();
        ctx.write(head);
        long sent = 0;
        while (sent < length) {
            ByteBuf slice = ctx.alloc().directBuffer(SLICE);
            int copied;
            try {
                copied = arrival.copyLanded(sent, slice, SLICE, ARRIVAL_SILENCE_NANOS);
            } catch (InterruptedException e) {
                copied = Arrival.FAILED; // shutting down
            } catch (RuntimeException e) {
                // the cache gave the memory back under an abandoned load (a closed segment): not the asker's bytes
                LOG.debug("passing on {} failed", arrival, e);
                copied = Arrival.FAILED;
            }
            if (copied > 0) {
                sent += copied;
                ChannelFuture written = ctx.writeAndFlush(new DefaultHttpContent(slice));
                if (!channel.isWritable() && !written.awaitUninterruptibly(PeerClient.BODY_SILENCE.toMillis())) {
                    channel.close(); // the asker stopped reading
                    return;
                }
                if (!channel.isActive()) {
                    return;
                }
                continue;
            }
            slice.release();
            BlockLease lease = copied == Arrival.ENDED_WHOLE ? published(blocks, request) : null;
            if (lease == null) {
                LOG.debug("{} did not arrive whole ({}); breaking off its answer", arrival, copied);
                channel.close();
                return;
            }
            ByteBuf rest = Unpooled.wrappedBuffer(lease.bytes().asSlice(sent).asByteBuffer());
            ctx.writeAndFlush(new DefaultLastHttpContent(rest)).addListener((ChannelFuture written) -> {
                lease.close();
                whenSent.operationComplete(written);
            });
            return;
        }
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(whenSent);
    }

    /** The block of an arrival that ended whole, pinned; null if it is not in the cache within a second. */
    private static BlockLease published(LocalBlocks blocks, BlockRequest request) {
        long deadline = System.nanoTime() + PUBLISH_WAIT_NANOS;
        try {
            while (true) {
                BlockLease lease = blocks.inMemory(request.file(), request.index());
                if (lease != null || System.nanoTime() - deadline > 0) {
                    return lease;
                }
                Thread.sleep(1);
            }
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }
}
