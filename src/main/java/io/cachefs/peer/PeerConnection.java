package io.cachefs.peer;

import io.cachefs.cache.LoadProgress;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.zip.CRC32C;

/**
 * One keep-alive connection to a peer, used by one thread at a time in blocking mode: a request
 * goes out, the response head is read into a small buffer, and the body passes a slice at a time
 * through a buffer that stays in the CPU cache into the caller's memory (the block's own place in
 * the cache), checksummed there: one write of the block, one checksum pass over cached bytes, no
 * event loop between the socket and the loader thread.
 *
 * <p>Blocking channels ignore socket timeouts, so time is kept from outside: while an exchange
 * runs, {@link #deadline} says when it is overdue, every heartbeat before the answer and every
 * read of the body that makes progress moves it on,
 * and the client's watchdog {@linkplain #abort() aborts} a connection past it, which makes the
 * blocked read throw.
 *
 * <p>With the group's TLS, bytes pass through a {@link TlsChannel} over the same socket (its
 * handshake runs in the first exchange, under the same deadline); without it, the socket itself
 * is read and written, as before TLS existed.
 */
final class PeerConnection implements AutoCloseable {

    /** Response heads are a status line and a few headers; an error body is one line. */
    static final int HEAD_BUFFER = 8 * 1024;
    /** A body is read, checksummed and copied in slices this big: they stay in the CPU's cache. */
    private static final int READ_SLICE = 256 * 1024;

    final InetSocketAddress peer;
    /** The socket: closing it unblocks any read or write on it, TLS or not. */
    private final SocketChannel channel;
    /** What requests are written to and answers read from: the socket itself, or a TLS session over it. */
    private final ByteChannel wire;
    private final ByteBuffer head = ByteBuffer.allocateDirect(HEAD_BUFFER);
    private final byte[] headBytes = new byte[HEAD_BUFFER];
    /** A body passes through here a slice at a time (see {@link #readBody}); small enough to stay in cache. */
    private final ByteBuffer slice = ByteBuffer.allocateDirect(READ_SLICE);
    /**
     * A block being passed on while it arrives ({@link Arrival}) lands as soon as this much of a
     * slice is in, not when the slice is full: on a slow or shared link a slice takes a while.
     */
    private static final int LANDING = 16 * 1024;
    private final MemorySegment sliceMemory = MemorySegment.ofBuffer(slice);
    /** Complete exchanges so far: a reused connection the peer closed while idle is worth one retry. */
    int exchanges;
    /** Bytes of the response received so far in the current exchange. */
    long received;
    /** System.nanoTime() after which the current exchange is overdue; 0 between exchanges. */
    volatile long deadline;
    /** Set by the watchdog when it aborted the exchange for silence. */
    volatile boolean timedOut;
    private long silenceNanos;
    private long answerSilenceNanos;
    private long headDeadline;
    private long bodyLimitNanos;
    /** When the body must be complete (System.nanoTime); set when the head is in. */
    private long bodyDeadline;
    /** The head is in: from now on every read that brings bytes moves the deadline on. */
    private boolean inBody;

    private PeerConnection(InetSocketAddress peer, SocketChannel channel, ByteChannel wire) {
        this.peer = peer;
        this.channel = channel;
        this.wire = wire;
    }

    /**
     * Connects in blocking mode within {@code timeout}.
     *
     * @param tls the group's TLS, or null to speak plain TCP
     */
    static PeerConnection open(InetSocketAddress peer, Duration timeout, PeerTls tls) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.socket().connect(peer, (int) Math.max(1, timeout.toMillis()));
            return new PeerConnection(peer, channel, tls == null ? channel : new TlsChannel(channel, tls.clientEngine()));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Starts an exchange: its peer must say something (an answer or a {@code 102} heartbeat)
     * every {@code answerSilence}, its answer's head must come by {@code headDeadline}, and then
     * the body must bring bytes every {@code bodySilence} and be complete within {@code bodyLimit}
     * of its head (a peer that trickles is as useless as a silent one, and the loader's progress
     * marks, {@link LoadProgress}, would otherwise keep it alive forever).
     */
    void begin(long headDeadline, Duration answerSilence, Duration bodySilence, Duration bodyLimit) {
        received = 0;
        inBody = false;
        timedOut = false;
        this.headDeadline = headDeadline;
        answerSilenceNanos = answerSilence.toNanos();
        silenceNanos = bodySilence.toNanos();
        bodyLimitNanos = bodyLimit.toNanos();
        deadline = earlier(System.nanoTime() + answerSilenceNanos, headDeadline);
    }

    /**
     * The limit the watchdog enforced when it ended this exchange: the body's silence, the
     * answer's silence, or the whole wait for the head; a message names the one that ran out.
     */
    Duration expiredLimit(Duration headTimeout) {
        if (inBody) {
            return Duration.ofNanos(System.nanoTime() - bodyDeadline >= 0 ? bodyLimitNanos : silenceNanos);
        }
        return System.nanoTime() - headDeadline >= 0 ? headTimeout : Duration.ofNanos(answerSilenceNanos);
    }

    private static long earlier(long a, long b) {
        return a - b < 0 ? a : b;
    }

    /** The exchange is over (either way): the watchdog leaves the connection be. */
    void end() {
        deadline = 0;
    }

    void send(byte[] request) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(request);
        while (bytes.hasRemaining()) {
            wire.write(bytes);
        }
    }

    /**
     * Reads the response head, skipping {@code 1xx} heartbeats (each one moves the deadline on,
     * up to the head's deadline); bytes of the body that came with it stay in the head buffer for
     * {@link #readBody} and {@link #readSmallBody}.
     *
     * @throws EOFException if the peer closed before sending anything (an idle connection it dropped)
     */
    ResponseHead readHead() throws IOException, ResponseHead.Malformed {
        head.clear();
        int scanned = 0;
        boolean heard = false;
        while (true) {
            int end = headEnd(scanned, head.position());
            if (end < 0) {
                scanned = Math.max(0, head.position() - 3);
                if (!head.hasRemaining()) {
                    throw new ResponseHead.Malformed("response head longer than " + HEAD_BUFFER + " bytes");
                }
                int n = wire.read(head);
                if (n < 0) {
                    if (head.position() == 0 && !heard) {
                        throw new EOFException("the peer closed the connection before answering");
                    }
                    throw new ResponseHead.Malformed("the peer closed the connection mid-head");
                }
                continue;
            }
            head.flip();
            head.get(headBytes, 0, end);
            ResponseHead parsed = ResponseHead.parse(headBytes, end);
            if (parsed.status() / 100 == 1) {
                // "still working": the peer lives; what came after it is the next head
                heard = true;
                head.compact();
                scanned = 0;
                deadline = earlier(System.nanoTime() + answerSilenceNanos, headDeadline);
                LoadProgress.made();
                continue;
            }
            // the deadline now guards silence: a body may take longer than a head, but must keep moving
            inBody = true;
            long now = System.nanoTime();
            bodyDeadline = now + bodyLimitNanos;
            deadline = earlier(now + silenceNanos, bodyDeadline);
            received = head.remaining();
            return parsed;
        }
    }

    /** Where the head's blank line ends in the head buffer, or -1 if it has not arrived yet. */
    private int headEnd(int from, int to) {
        for (int i = from; i + 3 < to; i++) {
            if (head.get(i) == '\r' && head.get(i + 1) == '\n' && head.get(i + 2) == '\r' && head.get(i + 3) == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    /**
     * Reads a body of exactly {@code dst.byteSize()} bytes into {@code dst}, updating {@code crc}
     * as slices arrive and telling {@code arrival} (if not null) how far they have landed.
     *
     * <p>The socket is read into this connection's slice buffer, checksummed there and copied
     * into {@code dst}, a slice at a time. Measured on the project's VM, this is 1.7x faster than
     * letting the kernel write into {@code dst} directly: the cache's pages are freshly allocated
     * for every block, and the kernel's copy into fresh pages runs at a fraction of a user-space
     * copy's speed there (RawTcp pair-fresh against pair-bounce). Elsewhere it costs little: the
     * slice buffer stays in the CPU cache, so the extra copy reads cache and writes the block once,
     * as the kernel would, and the checksum reads cache too.
     *
     * @throws ResponseHead.Malformed if more bytes came with the head than the body has
     * @throws EOFException if the peer closed mid-body
     */
    void readBody(MemorySegment dst, CRC32C crc, Arrival arrival) throws IOException, ResponseHead.Malformed {
        long length = dst.byteSize();
        int early = head.remaining();
        if (early > length) {
            throw new ResponseHead.Malformed("the body is longer than the block");
        }
        if (early > 0) {
            MemorySegment.copy(MemorySegment.ofBuffer(head), 0, dst, 0, early);
            crc.update(head); // consumes what came with the head
            if (arrival != null) {
                arrival.landed(early);
            }
        }
        long at = early;
        while (at < length) {
            slice.clear().limit((int) Math.min(READ_SLICE, length - at));
            while (slice.hasRemaining()) {
                int n = wire.read(slice);
                if (n < 0) {
                    throw new EOFException("the peer closed the connection mid-response (" + received + " of "
                            + length + " bytes)");
                }
                progress(n);
                if (arrival != null && slice.position() >= LANDING) {
                    break; // what is here may be passed on already
                }
            }
            int n = slice.flip().remaining();
            MemorySegment.copy(sliceMemory, 0, dst, at, n);
            crc.update(slice);
            at += n;
            if (arrival != null) {
                arrival.landed(at);
            }
        }
    }

    /**
     * Reads a body of {@code length} bytes into the heap, for error lines and holder lists.
     *
     * @throws ResponseHead.Malformed if it is longer than {@code max}
     */
    byte[] readSmallBody(long length, int max) throws IOException, ResponseHead.Malformed {
        if (length > max) {
            throw new ResponseHead.Malformed("a body of " + length + " bytes, more than the " + max + " expected");
        }
        int early = head.remaining();
        if (early > length) {
            throw new ResponseHead.Malformed("more bytes than the declared body");
        }
        ByteBuffer body = ByteBuffer.allocate((int) length);
        body.put(head);
        while (body.hasRemaining()) {
            ByteBuffer chunk = body.slice();
            int n = wire.read(chunk);
            if (n < 0) {
                throw new EOFException("the peer closed the connection mid-response");
            }
            progress(n);
            body.position(body.position() + n);
        }
        return body.array();
    }

    private void progress(int bytes) {
        if (bytes > 0 && inBody) {
            received += bytes;
            deadline = earlier(System.nanoTime() + silenceNanos, bodyDeadline);
            LoadProgress.made();
        }
    }

    /** Closes the socket from any thread; a read blocked on it throws. */
    void abort() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() {
        abort();
    }
}
