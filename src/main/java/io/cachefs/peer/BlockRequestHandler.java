package io.cachefs.peer;

import static io.netty.handler.codec.http.HttpResponseStatus.BAD_REQUEST;
import static io.netty.handler.codec.http.HttpResponseStatus.CONFLICT;
import static io.netty.handler.codec.http.HttpResponseStatus.FORBIDDEN;
import static io.netty.handler.codec.http.HttpResponseStatus.INTERNAL_SERVER_ERROR;
import static io.netty.handler.codec.http.HttpResponseStatus.METHOD_NOT_ALLOWED;
import static io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND;
import static io.netty.handler.codec.http.HttpResponseStatus.NO_CONTENT;
import static io.netty.handler.codec.http.HttpResponseStatus.TEMPORARY_REDIRECT;
import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpResponseStatus.SERVICE_UNAVAILABLE;
import static io.netty.handler.codec.http.HttpResponseStatus.UNAUTHORIZED;
import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachefs.cache.BlockLease;
import io.cachefs.source.FileVersion;
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
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
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

    /** The pending "still working" signal of a lookup, cancelled by the next lookup on the channel. */
    private static final AttributeKey<ScheduledFuture<?>> HEARTBEAT =
            AttributeKey.valueOf(BlockRequestHandler.class, "heartbeat");

    /**
     * How often a lookup that is still running says so with a {@code 102 Processing} head: well
     * inside the client's {@link PeerClient#ANSWER_SILENCE}, so that a client tells a member
     * that is loading for it (it hears a heartbeat) from one that is hung or stopped (silence)
     * within that silence, not after the whole load timeout.
     */
    static final long HEARTBEAT_MILLIS = 500;

    /** Holders named per answer: enough to spread a member's streams, small in a group of thousands. */
    static final int MAX_LISTED = 32;

    private final LocalBlocks blocks;
    private final GroupHolders group;
    private final PeerToken token;
    private final Executor lookups;
    private final ServedCounters counters;

    BlockRequestHandler(LocalBlocks blocks, GroupHolders group, PeerToken token, Executor lookups,
            ServedCounters counters) {
        this.blocks = blocks;
        this.group = group;
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
        QueryStringDecoder uri;
        try {
            uri = new QueryStringDecoder(request.uri());
            uri.parameters(); // decodes eagerly, so bad escapes fail here
        } catch (IllegalArgumentException e) {
            sendError(ctx, BAD_REQUEST, "malformed URI", keepAlive);
            return;
        }
        String path = uri.path();
        boolean blockPath = path.startsWith(WireFormat.BLOCKS_PATH);
        boolean holdersPath = path.equals(WireFormat.HOLDERS_PATH);
        boolean holdingsPath = path.equals(WireFormat.HOLDINGS_PATH);
        HttpMethod wanted = holdingsPath ? HttpMethod.POST : HttpMethod.GET;
        if (!wanted.equals(request.method())) {
            sendError(ctx, METHOD_NOT_ALLOWED, "only " + wanted + " is served here", keepAlive);
            return;
        }
        if (!blockPath && !holdersPath && !holdingsPath) {
            sendError(ctx, NOT_FOUND, "no such resource (try " + WireFormat.BLOCKS_PATH + ")",
                    keepAlive);
            return;
        }
        PeerToken.Verdict signed = token.check(request.method().name(), request.uri(),
                request.headers().get(HttpHeaderNames.AUTHORIZATION), System.currentTimeMillis() / 1000);
        if (signed != PeerToken.Verdict.VALID) {
            counters.portEvents.increment(signed == PeerToken.Verdict.REPLAYED ? PortEvent.REPLAY : PortEvent.BAD_SIGNATURE);
            sendError(ctx, UNAUTHORIZED, signed == PeerToken.Verdict.REPLAYED ? "a replayed request"
                    : "missing, wrong or expired signature (same peer token? clocks within 30 s?)", keepAlive);
            return;
        }
        PeerAddress asker = member(request.headers().get(WireFormat.MEMBER_HEADER));
        if (holdersPath) {
            holders(ctx, uri, keepAlive);
            return;
        }
        if (holdingsPath) {
            announced(ctx, asker, request.content().toString(UTF_8), keepAlive);
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
        offLoop(ctx, () -> answer(ctx, block, asker, keepAlive));
    }

    /** Runs {@code lookup} on a virtual thread (it may block); the idle timeout leaves the channel be meanwhile. */
    private void offLoop(ChannelHandlerContext ctx, Runnable lookup) {
        ctx.channel().attr(LOOKING_UP).set(true);
        ScheduledFuture<?> before = ctx.channel().attr(HEARTBEAT).getAndSet(
                ctx.executor().schedule(() -> heartbeat(ctx), HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS));
        if (before != null) {
            before.cancel(false);
        }
        try {
            lookups.execute(lookup);
        } catch (RejectedExecutionException e) {
            ctx.channel().attr(LOOKING_UP).set(false);
            sendError(ctx, SERVICE_UNAVAILABLE, "shutting down", false);
        }
    }

    /**
     * Tells the asker the lookup still runs, on the event loop. An answer is written by a task
     * queued after its lookup cleared {@link #LOOKING_UP}, so a heartbeat that saw the flag set
     * always goes out before the answer, never inside it.
     */
    private static void heartbeat(ChannelHandlerContext ctx) {
        if (!Boolean.TRUE.equals(ctx.channel().attr(LOOKING_UP).get()) || !ctx.channel().isActive()) {
            return;
        }
        ctx.writeAndFlush(new DefaultFullHttpResponse(HTTP_1_1, HttpResponseStatus.PROCESSING, Unpooled.EMPTY_BUFFER));
        ctx.channel().attr(HEARTBEAT).set(
                ctx.executor().schedule(() -> heartbeat(ctx), HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS));
    }

    /** The asker's name in the ring, if it gave a valid one; for counting and for leaving it out of redirects. */
    private static PeerAddress member(String header) {
        if (header == null) {
            return null;
        }
        try {
            return PeerAddress.parse(header.strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code GET /v1/holders}: this member's own blocks, or what it knows as the version's tracker. */
    private void holders(ChannelHandlerContext ctx, QueryStringDecoder uri, boolean keepAlive) {
        FileVersion file;
        int blockSize;
        boolean tracked;
        try {
            file = BlockRequest.version(uri.parameters());
            blockSize = BlockRequest.blockSize(uri.parameters());
            String scope = BlockRequest.parameter(uri.parameters(), WireFormat.SCOPE);
            if (!scope.equals("self") && !scope.equals("group")) {
                throw new BlockRequest.Invalid("scope must be self or group");
            }
            tracked = scope.equals("group");
        } catch (BlockRequest.Invalid e) {
            sendError(ctx, e.forbiddenPath() ? FORBIDDEN : BAD_REQUEST, e.getMessage(), keepAlive);
            return;
        }
        if (blockSize != blocks.blockSize()) {
            sendError(ctx, CONFLICT, "block size " + blockSize + " is not ours (" + blocks.blockSize() + ")",
                    keepAlive);
            return;
        }
        offLoop(ctx, () -> {
            try {
                Holdings holdings = tracked
                        ? group.tracked(file, blockSize).sample(MAX_LISTED, Math.ceilDiv(file.size(), blockSize),
                                java.util.concurrent.ThreadLocalRandom.current())
                        : group.own(file);
                sendText(ctx, OK, holdings.encode(), keepAlive);
            } catch (RuntimeException e) {
                LOG.warn("unexpected failure listing the holders of {}", file, e);
                sendLookupError(ctx, INTERNAL_SERVER_ERROR, "internal error", keepAlive);
            }
        });
    }

    /** {@code POST /v1/holdings}: a member tells this tracker what it holds. */
    private void announced(ChannelHandlerContext ctx, PeerAddress member, String body, boolean keepAlive) {
        if (member == null) {
            sendError(ctx, BAD_REQUEST, "an announcement needs " + WireFormat.MEMBER_HEADER, keepAlive);
            return;
        }
        java.util.List<Announcement> lines;
        try {
            lines = Announcement.parse(body);
        } catch (BlockRequest.Invalid e) {
            sendError(ctx, e.forbiddenPath() ? FORBIDDEN : BAD_REQUEST, e.getMessage(), keepAlive);
            return;
        }
        for (Announcement line : lines) {
            if (line.blockSize() == blocks.blockSize()) {
                group.announced(member, line);
            }
        }
        sendText(ctx, NO_CONTENT, "", keepAlive);
    }

    /** Looks the block up (on a virtual thread: it may block) and sends what it came to. */
    private void answer(ChannelHandlerContext ctx, BlockRequest request, PeerAddress asker, boolean keepAlive) {
        BlockLease lease;
        try {
            // a load asked for outright checks the version with the source first (LocalBlocks#load)
            lease = request.mode() == BlockRequest.Mode.LOAD ? null : blocks.inMemory(request.file(), request.index());
            if (lease == null) {
                Arrival arrival = group.arriving(request.file(), request.index());
                if (arrival != null && !arrival.from.equals(asker)) {
                    sendArriving(ctx, arrival, request, asker, keepAlive);
                    return;
                }
            }
            if (lease == null && request.mode() == BlockRequest.Mode.LOAD_OR_REDIRECT) {
                java.util.List<PeerAddress> holders = redirectTargets(request, asker);
                if (!holders.isEmpty()) {
                    sendRedirect(ctx, holders, keepAlive);
                    return;
                }
            }
            if (lease == null && request.mode() != BlockRequest.Mode.MEMORY) {
                lease = blocks.load(request.file(), request.index());
            }
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
        sendBlock(ctx, lease, request, asker, keepAlive);
    }

    /** Members that hold the block, for a 307: never the asker, never this member. */
    private java.util.List<PeerAddress> redirectTargets(BlockRequest request, PeerAddress asker) {
        java.util.List<PeerAddress> holders = new java.util.ArrayList<>();
        for (PeerAddress holder : group.holdersOf(request.file(), request.blockSize(), request.index())) {
            if (!holder.equals(asker) && holders.size() < PeerLoader.HOLDER_TRIES) {
                holders.add(holder);
            }
        }
        return holders;
    }

    private void sendRedirect(ChannelHandlerContext ctx, java.util.List<PeerAddress> holders, boolean keepAlive) {
        ctx.channel().attr(LOOKING_UP).set(false);
        counters.redirects.increment();
        ByteBuf body = Unpooled.copiedBuffer("307 ask the members that hold it\n", UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HTTP_1_1, TEMPORARY_REDIRECT, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(WireFormat.HOLDERS_HEADER, String.join(",", holders.stream().map(PeerAddress::toString).toList()));
        HttpUtil.setKeepAlive(response, keepAlive);
        ctx.writeAndFlush(response).addListener((ChannelFuture written) -> afterResponse(written, keepAlive));
    }

    /** A short text answer (a holder list, or nothing); from any thread. */
    private void sendText(ChannelHandlerContext ctx, HttpResponseStatus status, String text, boolean keepAlive) {
        ctx.channel().attr(LOOKING_UP).set(false);
        ByteBuf body = Unpooled.copiedBuffer(text, UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        HttpUtil.setKeepAlive(response, keepAlive);
        ctx.writeAndFlush(response).addListener((ChannelFuture written) -> afterResponse(written, keepAlive));
    }

    private void sendBlock(ChannelHandlerContext ctx, BlockLease lease, BlockRequest request, PeerAddress asker,
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
            served(written, asker, length, keepAlive);
        });
    }

    /** Passes on a block that is still arriving here from another member ({@link CutThroughAnswer}). */
    private void sendArriving(ChannelHandlerContext ctx, Arrival arrival, BlockRequest request, PeerAddress asker,
            boolean keepAlive) {
        if (arrival.length() != request.length()) {
            LOG.warn("{} is {} bytes long, not {}", arrival, arrival.length(), request.length());
            sendLookupError(ctx, INTERNAL_SERVER_ERROR, "internal error", keepAlive);
            return;
        }
        ctx.channel().attr(LOOKING_UP).set(false);
        CutThroughAnswer.send(ctx, arrival, request, blocks, keepAlive,
                written -> passedOn(written, asker, request.length(), keepAlive));
    }

    private void passedOn(ChannelFuture written, PeerAddress asker, int length, boolean keepAlive) {
        if (written.isSuccess()) {
            counters.passedOnBytes.add(length);
        }
        served(written, asker, length, keepAlive);
    }

    private void served(ChannelFuture written, PeerAddress asker, int length, boolean keepAlive) {
        if (written.isSuccess()) {
            counters.served(asker == null ? null : asker.toString(), length);
        }
        afterResponse(written, keepAlive);
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
        // a refused TLS session arrives wrapped by the SslHandler's decoder; it is counted where it fails
        if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
            LOG.debug("peer connection {} failed", ctx.channel().remoteAddress(), cause);
        } else {
            LOG.warn("unexpected failure on peer connection {}", ctx.channel().remoteAddress(),
                    cause);
        }
        ctx.close();
    }
}
