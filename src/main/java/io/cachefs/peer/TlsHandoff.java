package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * The first handler of every peer connection: it looks at the first bytes, whether they open a
 * TLS record, and then leaves the pipeline. Per connection (it waits for those bytes).
 *
 * <ul>
 *   <li>A TLS port: a connection that opens with a TLS record gets the group's {@link SslHandler}
 *       in its place, first in the pipeline, which requires the client's certificate; one that
 *       opens in plain text (a member started without {@code --peer-tls-*}) is answered
 *       {@code 426} in plain text, one line saying why, and closed before its request is read.
 *   <li>A plain port: plain text goes on to the HTTP decoder; a TLS handshake (a member started
 *       with {@code --peer-tls-*}) is answered {@code 400} in plain text, which its TLS engine
 *       refuses at once, and closed.
 * </ul>
 * Either way a member whose settings differ from the group's learns at once, and can say why,
 * instead of waiting for a timeout; each refusal is counted.
 *
 * <p>The handshake has no timeout of its own: the {@link RequestDeadline} runs from the connect,
 * so a client that trickles its handshake is closed and counted like one that trickles a request.
 */
final class TlsHandoff extends ByteToMessageDecoder {

    /** A TLS record header: type, version, length. Fewer bytes cannot tell TLS from plain text. */
    private static final int RECORD_HEADER = 5;
    private static final byte[] PLAIN_TEXT_ANSWER = answer(WireFormat.TLS_REQUIRED + " Upgrade Required",
            "Upgrade: TLS/1.3\r\n", "426 this peer port speaks TLS: start every member with --peer-tls-cert and "
                    + "--peer-tls-key\n");
    /** Plain HTTP, which a TLS client reads as "not TLS": it fails its handshake at once, not at a timeout. */
    private static final byte[] TLS_ANSWER = answer("400 Bad Request", "", "400 this peer port speaks plain HTTP, "
            + "not TLS: start every member with --peer-tls-*, or none\n");

    /** The group's TLS, or null on a plain port. */
    private final PeerTls tls;
    /** Told why a connection was refused (no TLS, or a failed handshake: a foreign or missing certificate). */
    private final Consumer<String> refused;

    TlsHandoff(PeerTls tls, Consumer<String> refused) {
        this.tls = tls;
        this.refused = refused;
    }

    private static byte[] answer(String status, String headers, String line) {
        return ("HTTP/1.1 " + status + "\r\n" + headers
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + line.length()
                + "\r\nConnection: close\r\n\r\n" + line).getBytes(US_ASCII);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < RECORD_HEADER) {
            return;
        }
        boolean encrypted = SslHandler.isEncrypted(in, false);
        if (tls == null) {
            if (encrypted) {
                in.skipBytes(in.readableBytes());
                refused.accept("a TLS handshake on the plain port");
                ctx.writeAndFlush(Unpooled.wrappedBuffer(TLS_ANSWER)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.pipeline().remove(this); // what came so far goes on to the HTTP decoder
            }
            return;
        }
        if (encrypted) {
            SslHandler ssl = tls.serverHandler(ctx.alloc());
            ssl.setHandshakeTimeoutMillis(0); // the request deadline covers it (class comment)
            ssl.handshakeFuture().addListener(handshake -> {
                // a close (the request deadline, the client going away) is not a refusal
                if (!handshake.isSuccess() && handshake.cause() instanceof SSLException failure) {
                    refused.accept("TLS handshake failed: " + failure.getMessage());
                }
            });
            ctx.pipeline().replace(this, "tls", ssl); // what came so far goes on to it
            return;
        }
        in.skipBytes(in.readableBytes());
        refused.accept("plain text on the TLS port");
        ctx.writeAndFlush(Unpooled.wrappedBuffer(PLAIN_TEXT_ANSWER)).addListener(ChannelFutureListener.CLOSE);
    }
}
