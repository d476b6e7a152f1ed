package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachefs.peer.PeerFetch.Failed;
import io.cachefs.peer.PeerFetch.Kind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

/**
 * Reads the responses on one pooled client connection, copying a block's body straight into
 * the caller's destination as it arrives: one copy, from the socket buffer into the cache's
 * memory, and no aggregation buffer.
 *
 * <p>Stateful, one per channel: it holds the exchange in flight. All its methods run on the
 * channel's event loop, which is what makes {@link #abandon} a guarantee: once it has run,
 * nothing more is written into the destination.
 */
final class BlockResponseHandler extends ChannelInboundHandlerAdapter {

    /** Enough of an error body to say why; the server sends one line. */
    private static final int MAX_REASON = 200;
    private static final Pattern CRC = Pattern.compile("[0-9a-fA-F]{8}");

    /** What one request came to, before the caller checks the checksum. */
    record Outcome(PeerFetch fetch, String crc, boolean keepConnection, boolean retry) {

        static Outcome failed(Kind kind, String reason) {
            return new Outcome(new Failed(kind, reason), null, false, false);
        }
    }

    /** One request on this connection and what has arrived of its response. */
    static final class Exchange {
        final MemorySegment dst;
        final CompletableFuture<Outcome> done = new CompletableFuture<>();
        boolean reused;
        HttpResponse head;
        long received;
        final StringBuilder reason = new StringBuilder();

        Exchange(MemorySegment dst) {
            this.dst = dst;
        }
    }

    private Exchange exchange;
    private int exchangesDone;

    /** Makes {@code next} the exchange whose response comes next; on the event loop. */
    void begin(Exchange next) {
        next.reused = exchangesDone > 0;
        exchange = next;
    }

    /**
     * Gives up the exchange in flight (the caller timed out), so that no later byte touches
     * its destination; on the event loop. The caller closes the channel.
     */
    void abandon() {
        exchange = null;
    }

    /** The request could not be written. */
    void writeFailed(ChannelHandlerContext ctx, Throwable cause) {
        if (exchange == null) {
            return;
        }
        boolean retry = exchange.reused && exchange.head == null;
        finish(ctx, new Outcome(new Failed(Kind.ERROR, "sending the request failed: "
                + cause.getMessage()), null, false, retry));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (exchange == null) {
                ctx.close(); // bytes nobody asked for: the connection is out of step
                return;
            }
            if (msg instanceof DecoderResultProvider provider
                    && !provider.decoderResult().isSuccess()) {
                finish(ctx, Outcome.failed(Kind.BAD_RESPONSE, "not a valid HTTP response: "
                        + provider.decoderResult().cause().getMessage()));
                return;
            }
            if (msg instanceof HttpResponse head) {
                onHead(ctx, head);
            }
            if (msg instanceof HttpContent content && exchange != null) {
                onContent(ctx, content);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpResponse head) {
        exchange.head = head;
        if (head.status().code() != 200) {
            return; // the body is the reason, read in onContent
        }
        long expected = exchange.dst.byteSize();
        long declared = HttpUtil.getContentLength(head, -1L);
        if (declared != expected || HttpUtil.isTransferEncodingChunked(head)) {
            finish(ctx, Outcome.failed(Kind.BAD_RESPONSE, "the peer declared " + declared
                    + " bytes for a block of " + expected));
            return;
        }
        String crc = head.headers().get(WireFormat.CRC32C_HEADER);
        if (crc == null || !CRC.matcher(crc).matches()) {
            finish(ctx, Outcome.failed(Kind.BAD_RESPONSE, "no valid " + WireFormat.CRC32C_HEADER
                    + " header"));
        }
    }

    private void onContent(ChannelHandlerContext ctx, HttpContent content) {
        ByteBuf bytes = content.content();
        int n = bytes.readableBytes();
        if (exchange.head.status().code() == 200) {
            if (n > exchange.dst.byteSize() - exchange.received) {
                finish(ctx, Outcome.failed(Kind.BAD_RESPONSE, "the body is longer than the block"));
                return;
            }
            bytes.getBytes(bytes.readerIndex(), exchange.dst.asSlice(exchange.received, n)
                    .asByteBuffer());
            exchange.received += n;
        } else if (exchange.reason.length() < MAX_REASON) {
            exchange.reason.append(bytes.toString(bytes.readerIndex(),
                    Math.min(n, MAX_REASON - exchange.reason.length()), UTF_8));
        }
        if (content instanceof LastHttpContent) {
            complete(ctx);
        }
    }

    private void complete(ChannelHandlerContext ctx) {
        HttpResponse head = exchange.head;
        boolean keep = HttpUtil.isKeepAlive(head);
        int status = head.status().code();
        if (status == 200) {
            if (exchange.received != exchange.dst.byteSize()) {
                finish(ctx, Outcome.failed(Kind.BAD_RESPONSE, "the body has " + exchange.received
                        + " of " + exchange.dst.byteSize() + " bytes"));
                return;
            }
            finish(ctx, new Outcome(new PeerFetch.Fetched((int) exchange.received),
                    head.headers().get(WireFormat.CRC32C_HEADER), keep, false));
            return;
        }
        String reason = "HTTP " + status + ": " + exchange.reason.toString().strip();
        PeerFetch fetch = switch (status) {
            case 404 -> new PeerFetch.NotThere();
            case 401 -> new Failed(Kind.UNAUTHORIZED, reason);
            case 409 -> new Failed(Kind.CONFLICT, reason);
            default -> new Failed(Kind.ERROR, reason);
        };
        finish(ctx, new Outcome(fetch, null, keep, false));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (exchange != null) {
            if (exchange.head == null) {
                // A keep-alive connection the peer closed as we reused it: worth one retry.
                finish(ctx, new Outcome(new Failed(Kind.ERROR,
                        "the peer closed the connection before answering"), null, false,
                        exchange.reused));
            } else {
                finish(ctx, Outcome.failed(Kind.BAD_RESPONSE,
                        "the peer closed the connection mid-response"));
            }
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (exchange != null) {
            finish(ctx, Outcome.failed(Kind.ERROR, "connection failed: " + cause));
        }
        ctx.close();
    }

    private void finish(ChannelHandlerContext ctx, Outcome outcome) {
        Exchange done = exchange;
        exchange = null;
        exchangesDone++;
        if (!outcome.keepConnection()) {
            ctx.close();
        }
        done.done.complete(outcome);
    }
}
