package io.cachefs.peer;

import static io.netty.handler.codec.http.HttpResponseStatus.BAD_REQUEST;
import static io.netty.handler.codec.http.HttpResponseStatus.CONFLICT;
import static io.netty.handler.codec.http.HttpResponseStatus.FORBIDDEN;
import static io.netty.handler.codec.http.HttpResponseStatus.INTERNAL_SERVER_ERROR;
import static io.netty.handler.codec.http.HttpResponseStatus.METHOD_NOT_ALLOWED;
import static io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND;
import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpResponseStatus.SERVICE_UNAVAILABLE;
import static io.netty.handler.codec.http.HttpResponseStatus.UNAUTHORIZED;
import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachefs.cache.BlockLease;
import io.cachefs.source.StaleVersionException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers block requests: a ladder of guard clauses on the event loop, each ending in one
 * {@link #sendError}, then the lookup on a virtual thread (it may wait for a source read),
 * then the write back on the channel's event loop.
 *
 * <p>Shared by all connections: it keeps no per-connection fields. The one piece of
 * per-connection state, whether a lookup is in flight, is a channel attribute, so an idle
 * timeout never cuts a request that is waiting for a slow load.
 *
 * <p>A block goes out without a heap copy: the response body wraps the pinned lease's memory,
 * and the lease is closed when the write completes, succeeds or not, so the block cannot be
 * evicted or punched while the socket still reads from it.
 */
@Sharable
final class BlockRequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(BlockRequestHandler.class);

    /** Set while a lookup runs off the event loop; the idle timeout leaves such a channel be. */
    private static final AttributeKey<Boolean> LOOKING_UP =
            AttributeKey.valueOf(BlockRequestHandler.class, "lookingUp");

    private final LocalBlocks blocks;
    private final PeerToken token;
    private final Executor lookups;
    private final ServedCounters counters;

    BlockRequestHandler(LocalBlocks blocks, PeerToken token, Executor lookups,
            ServedCounters counters) {
        this.blocks = blocks;
        this.token = token;
        this.lookups = lookups;
        this.counters = counters;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        counters.connections.increment();
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        // One request at a time: stop reading until its response is written (see
        // BlockServerInitializer); afterResponse turns reading back on.
        ctx.channel().config().setAutoRead(false);
        if (!request.decoderResult().isSuccess()) {
            // the decoder discards everything after a bad message: the connection is spent
            sendError(ctx, BAD_REQUEST, "malformed HTTP request", false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!HttpMethod.GET.equals(request.method())) {
            sendError(ctx, METHOD_NOT_ALLOWED, "only GET is served", keepAlive);
            return;
        }
        QueryStringDecoder uri;
        try {
            uri = new QueryStringDecoder(request.uri());
            uri.parameters(); // decodes eagerly, so bad escapes fail here
        } catch (IllegalArgumentException e) {
            sendError(ctx, BAD_REQUEST, "malformed URI", keepAlive);
            return;
        }
        if (!uri.path().startsWith(WireFormat.BLOCKS_PATH)) {
            sendError(ctx, NOT_FOUND, "no such resource (try " + WireFormat.BLOCKS_PATH + ")",
                    keepAlive);
            return;
        }
        if (!token.matches(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            sendError(ctx, UNAUTHORIZED, "missing or wrong peer token", keepAlive);
            return;
        }
        BlockRequest block;
        try {
            block = BlockRequest.parse(uri);
        } catch (BlockRequest.Invalid e) {
            sendError(ctx, e.forbiddenPath() ? FORBIDDEN : BAD_REQUEST, e.getMessage(), keepAlive);
            return;
        }
        if (block.blockSize() != blocks.blockSize()) {
            sendError(ctx, CONFLICT, "block size " + block.blockSize() + " is not ours ("
                    + blocks.blockSize() + ")", keepAlive);
            return;
        }
        ctx.channel().attr(LOOKING_UP).set(true);
        try {
            lookups.execute(() -> answer(ctx, block, keepAlive));
        } catch (RejectedExecutionException e) {
            ctx.channel().attr(LOOKING_UP).set(false);
            sendError(ctx, SERVICE_UNAVAILABLE, "shutting down", false);
        }
    }

    /** Looks the block up (on a virtual thread: it may block) and sends what it came to. */
    private void answer(ChannelHandlerContext ctx, BlockRequest request, boolean keepAlive) {
        BlockLease lease;
        try {
            lease = request.mode() == BlockRequest.Mode.MEMORY
                    ? blocks.inMemory(request.file(), request.index())
                    : blocks.load(request.file(), request.index());
        } catch (NoSuchFileException | StaleVersionException e) {
            sendLookupError(ctx, NOT_FOUND, "no such file at this version", keepAlive);
            return;
        } catch (AccessDeniedException e) {
            sendLookupError(ctx, FORBIDDEN, "path leads outside the source", keepAlive);
            return;
        } catch (IOException e) {
            LOG.debug("loading {} for a peer failed", request, e);
            sendLookupError(ctx, SERVICE_UNAVAILABLE, "loading the block failed", keepAlive);
            return;
        } catch (RuntimeException e) {
            LOG.warn("unexpected failure serving {}", request, e);
            sendLookupError(ctx, INTERNAL_SERVER_ERROR, "internal error", keepAlive);
            return;
        }
        if (lease == null) {
            sendLookupError(ctx, NOT_FOUND, "block not in memory", keepAlive);
            return;
        }
        sendBlock(ctx, lease, request, keepAlive);
    }

    private void sendBlock(ChannelHandlerContext ctx, BlockLease lease, BlockRequest request,
            boolean keepAlive) {
        FullHttpResponse response;
        try {
            MemorySegment bytes = lease.bytes();
            if (bytes.byteSize() != request.length()) {
                throw new IllegalStateException("lease of " + request + " holds "
                        + bytes.byteSize() + " bytes, not " + request.length());
            }
            String crc = WireFormat.formatCrc(lease.crc32c());
            response = new DefaultFullHttpResponse(HTTP_1_1, OK,
                    Unpooled.wrappedBuffer(bytes.asByteBuffer()));
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, request.length())
                    .set(WireFormat.CRC32C_HEADER, crc);
            HttpUtil.setKeepAlive(response, keepAlive);
        } catch (RuntimeException e) {
            lease.close();
            LOG.warn("unexpected failure serving {}", request, e);
            sendLookupError(ctx, INTERNAL_SERVER_ERROR, "internal error", keepAlive);
            return;
        }
        ctx.channel().attr(LOOKING_UP).set(false);
        int length = request.length();
        ctx.writeAndFlush(response).addListener((ChannelFuture written) -> {
            lease.close();
            if (written.isSuccess()) {
                counters.served.increment();
                counters.servedBytes.add(length);
            }
            afterResponse(written, keepAlive);
        });
    }

    private void sendLookupError(ChannelHandlerContext ctx, HttpResponseStatus status,
            String message, boolean keepAlive) {
        ctx.channel().attr(LOOKING_UP).set(false);
        sendError(ctx, status, message, keepAlive);
    }

    /** Sends a one-line text error; keeps the connection if the request allowed it. */
    private void sendError(ChannelHandlerContext ctx, HttpResponseStatus status, String message,
            boolean keepAlive) {
        counters.countError(status.code());
        ByteBuf body = Unpooled.copiedBuffer(status.code() + " " + message + "\n", UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (status == METHOD_NOT_ALLOWED) {
            response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.GET.name());
        }
        HttpUtil.setKeepAlive(response, keepAlive);
        ctx.writeAndFlush(response).addListener((ChannelFuture written) ->
                afterResponse(written, keepAlive));
    }

    /**
     * Reads on, or closes the connection. Reading resumes from a task of its own: a write that
     * completes at once runs this listener inside the request's channelRead, and the read
     * that resuming asks for must not re-enter the decoders still handling the previous one.
     */
    private static void afterResponse(ChannelFuture written, boolean keepAlive) {
        if (written.isSuccess() && keepAlive) {
            Channel channel = written.channel();
            channel.eventLoop().execute(() -> channel.config().setAutoRead(true));
        } else {
            written.channel().close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            if (!Boolean.TRUE.equals(ctx.channel().attr(LOOKING_UP).get())) {
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            LOG.debug("peer connection {} failed", ctx.channel().remoteAddress(), cause);
        } else {
            LOG.warn("unexpected failure on peer connection {}", ctx.channel().remoteAddress(),
                    cause);
        }
        ctx.close();
    }
}
