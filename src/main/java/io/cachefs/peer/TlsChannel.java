package io.cachefs.peer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * A TLS client session over a blocking {@link SocketChannel}, for one {@link PeerConnection}: the
 * same {@code read}/{@code write} as the socket, so the connection's code is the same with TLS or
 * without, and the plain path keeps the socket itself.
 *
 * <p>The handshake runs on the first write, inside the caller's exchange, so the client's
 * watchdog guards it as it guards an answer: closing the socket (from any thread) makes a blocked
 * handshake or read throw.
 *
 * <h2>Memory</h2>
 * Ciphertext comes from the socket into {@link #netIn}, several records per system call. A record
 * is decrypted straight into the caller's buffer when that has room for a whole record (a body's
 * 256 KiB slice), else into {@link #appIn} and copied from there (the tail of a block, a response
 * head): the plain path's single copy plus, at most, one of a record's worth.
 *
 * <p>Not thread-safe: one thread at a time, like its connection; {@link #close()} from any thread.
 */
final class TlsChannel implements ByteChannel {

    /** Ciphertext read per system call: several 16 KiB records, so a 4 MiB body takes few reads. */
    private static final int NET_BUFFER = 128 * 1024;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel socket;
    private final SSLEngine engine;
    /** Ciphertext received, not yet decrypted; kept in read mode (flipped). */
    private final ByteBuffer netIn;
    /** Ciphertext to send; empty between calls. */
    private final ByteBuffer netOut;
    /** Plaintext decrypted but not yet handed out; kept in read mode (flipped). */
    private final ByteBuffer appIn;
    private final int recordSize;
    private boolean handshaken;
    /** Whether any plaintext ever came: an end of stream before it means the peer refused the session. */
    private boolean heard;

    TlsChannel(SocketChannel socket, SSLEngine engine) {
        this.socket = socket;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.recordSize = engine.getSession().getApplicationBufferSize();
        this.netIn = ByteBuffer.allocateDirect(Math.max(NET_BUFFER, packet)).flip();
        this.netOut = ByteBuffer.allocateDirect(packet);
        this.appIn = ByteBuffer.allocateDirect(recordSize).flip();
    }

    /**
     * Runs the handshake: the peer must present a certificate that chains to the group's anchors.
     *
     * @throws SSLException for any failure, a reset or an end of stream too: a peer that drops a
     *     handshake is one that does not speak TLS, or not with this member's certificate
     */
    private void handshake() throws IOException {
        try {
            handshakeSteps();
        } catch (SSLException e) {
            sendAlert();
            throw e;
        } catch (AsynchronousCloseException e) {
            throw e; // an abort (the watchdog, an interrupt) is no refusal
        } catch (IOException e) {
            throw new SSLHandshakeException("the connection failed during the TLS handshake: " + e.getMessage(), e);
        }
    }

    private void handshakeSteps() throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> wrap(EMPTY);
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (unwrap(appIn, true) < 0) {
                        throw new SSLHandshakeException("the peer closed the connection during the TLS handshake");
                    }
                }
                case NEED_TASK -> runTasks();
                case FINISHED, NOT_HANDSHAKING -> {
                    handshaken = true;
                    return;
                }
            }
        }
    }

    /**
     * Sends the alert the engine made of a failed handshake (say, the peer's certificate is not
     * the group's), so the peer counts a refusal rather than a dropped connection; best effort.
     */
    private void sendAlert() {
        try {
            engine.closeOutbound();
            netOut.clear();
            engine.wrap(EMPTY, netOut);
            netOut.flip();
            while (netOut.hasRemaining() && socket.write(netOut) > 0) {
                // a few bytes: the socket's buffer takes them at once
            }
        } catch (IOException | RuntimeException e) {
            // the connection is closed next anyway
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!handshaken) {
            handshake();
        }
        int written = 0;
        while (src.hasRemaining()) {
            written += wrap(src);
        }
        return written;
    }

    /** Encrypts (some of) {@code src} into one record and sends it whole; returns the plaintext bytes taken. */
    private int wrap(ByteBuffer src) throws IOException {
        netOut.clear();
        SSLEngineResult result = engine.wrap(src, netOut);
        if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
            throw new SSLException("the TLS session is closed");
        }
        netOut.flip();
        while (netOut.hasRemaining()) {
            socket.write(netOut);
        }
        if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            runTasks();
        }
        return result.bytesConsumed();
    }

    /**
     * Reads plaintext into {@code dst}: what is left of a record, else at least one record,
     * decrypted straight into {@code dst} while a whole record fits, as many as are buffered.
     *
     * @return the bytes read, or -1 at the end of the stream (close_notify or the socket closed)
     * @throws SSLException if the peer refused the session (an alert), or the stream is not TLS
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (!handshaken) {
            handshake();
        }
        if (appIn.hasRemaining()) {
            return drain(dst);
        }
        if (dst.remaining() < recordSize) {
            return unwrap(appIn, true) < 0 ? -1 : drain(dst);
        }
        int produced = unwrap(dst, true);
        while (produced > 0 && dst.remaining() >= recordSize) {
            int more = unwrap(dst, false); // only what is buffered: the caller has bytes to go on with
            if (more <= 0) {
                break;
            }
            produced += more;
        }
        return produced;
    }

    /**
     * Decrypts records into {@code dst} until one yields plaintext (post-handshake messages such as
     * session tickets yield none), reading the socket as needed if {@code mayBlock}.
     *
     * @return plaintext bytes written into {@code dst} (its position moved; {@link #appIn} is left
     *     flipped for reading), 0 if the handshake goes on or nothing whole was buffered and
     *     {@code !mayBlock}, -1 at the end of the stream
     */
    private int unwrap(ByteBuffer dst, boolean mayBlock) throws IOException {
        boolean intoAppIn = dst == appIn;
        if (intoAppIn) {
            appIn.clear();
        }
        try {
            while (true) {
                SSLEngineResult result = engine.unwrap(netIn, dst);
                switch (result.getStatus()) {
                    case OK -> {
                        if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                            runTasks();
                        } else if (result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                            wrap(EMPTY); // the handshake's next flight, or the answer to a key update
                        }
                        if (result.bytesProduced() > 0) {
                            heard = true;
                            return result.bytesProduced();
                        }
                        if (!handshaken && engine.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_UNWRAP) {
                            return 0; // the handshake goes on with another kind of step
                        }
                    }
                    case BUFFER_UNDERFLOW -> {
                        if (!mayBlock) {
                            return 0;
                        }
                        if (fill() < 0) {
                            if (!heard) {
                                throw new SSLHandshakeException("the peer closed the connection before its first "
                                        + "answer (it may have refused this member's certificate)");
                            }
                            return -1;
                        }
                    }
                    case BUFFER_OVERFLOW -> throw new SSLException("a TLS record larger than the engine's "
                            + recordSize + "-byte application buffer");
                    case CLOSED -> {
                        return -1;
                    }
                }
            }
        } finally {
            if (intoAppIn) {
                appIn.flip();
            }
        }
    }

    /** Reads more ciphertext from the socket behind what is buffered; -1 at its end. */
    private int fill() throws IOException {
        netIn.compact();
        try {
            return socket.read(netIn);
        } finally {
            netIn.flip();
        }
    }

    private int drain(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), appIn.remaining());
        int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        return n;
    }

    /** Certificate checks and key computations the engine hands out: run here, on the exchange's thread. */
    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    /** Closes the socket without a close_notify: a pooled connection is only closed when done with or aborted. */
    @Override
    public void close() throws IOException {
        socket.close();
    }
}
