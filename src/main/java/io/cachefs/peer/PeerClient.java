package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachefs.peer.PeerFetch.Failed;
import io.cachefs.peer.PeerFetch.Kind;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks peers' {@link BlockServer}s for blocks, holder lists and announcements, on the calling
 * thread (a load stream's own thread).
 *
 * <h2>Connections</h2>
 * A pool of idle keep-alive connections per peer; a thread takes one for an exchange, so that
 * a block costs one round trip, not a handshake, and several threads have several blocks in
 * flight to one peer on as many connections. A connection goes back to the pool only after a
 * complete, well-formed answer; one that failed, timed out or carried a bad checksum is closed.
 * A pooled connection the peer closed while idle shows as an end of stream before any answer:
 * the request is then sent once more on a new connection (every request is safe to repeat).
 *
 * <h2>Memory</h2>
 * A block's body is read by the kernel straight into the caller's destination, the block's
 * place in the cache's memory file, and checksummed as it arrives ({@link PeerConnection}).
 *
 * <h2>Time</h2>
 * A connect gets the connect timeout; an answer's head must come within the request timeout
 * (short for memory copies, long for an owner's load, which waits for its source), but a peer
 * must say something within the memory timeout all along: a peer that works on a long request
 * sends {@code 102 Processing} heartbeats, so a hung or stopped peer costs the short timeout
 * whatever was asked of it, and a slow load still has its long one. Then
 * its body must never pause longer than {@link #BODY_SILENCE}: on a busy, capped link a 4 MiB
 * block may take seconds, but a peer that stops sending is dead. A watchdog thread aborts
 * overdue exchanges; when a call returns, nothing more is written into its destination.
 *
 * <h2>TLS</h2>
 * With the group's {@link PeerTls}, every connection is a mutual-TLS session (one context for the
 * whole client; the handshake is part of the connection's first exchange, under its deadline).
 * A member that speaks plain to a TLS group, or TLS to a plain one, gets a
 * {@link Kind#TLS_HANDSHAKE} failure and never bytes: its reads go to the source.
 *
 * <p>Peer trouble never throws: it is a {@link PeerFetch} value, and the caller's next step
 * (another peer, or the source) is the same whatever it was.
 */
public final class PeerClient implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PeerClient.class);

    /** A body that pauses this long comes from a dead or wedged peer (the README's 2 s memory copy). */
    static final Duration BODY_SILENCE = Duration.ofSeconds(2);
    /** How often the watchdog looks for overdue exchanges: well under any timeout. */
    private static final long WATCH_PERIOD_MILLIS = 20;
    /** Idle connections kept per peer: as many as streams usually ask it at once. */
    private static final int MAX_IDLE_PER_PEER = 16;
    /** Error lines and holder lists; anything longer is not a peer talking. */
    static final int MAX_SMALL_BODY = 4 << 20;
    private static final Pattern CRC = Pattern.compile("[0-9a-fA-F]{8}");
    /** What a TLS failure most often means: the group was started with mixed settings. */
    private static final String TLS_HINT = "are all members started with --peer-tls-*?";

    /** What a small exchange came to: a status and body, or a failure. */
    record Reply(int status, byte[] body, Map<String, String> headers, Failed failure) {
        static Reply failed(Kind kind, String reason) {
            return new Reply(0, new byte[0], Map.of(), new Failed(kind, reason));
        }

        String text() {
            return new String(body, UTF_8);
        }
    }

    /** One exchange's work once the head is in: read the body, say what it came to. */
    @FunctionalInterface
    private interface BodyReader<T> {
        T read(PeerConnection connection, ResponseHead head) throws IOException, ResponseHead.Malformed;
    }

    private final PeerToken token;
    /** The group's TLS, or null for plain TCP. */
    private final PeerTls tls;
    private final Duration connectTimeout;
    private final Duration memoryTimeout;
    private final Duration loadTimeout;
    private final Map<InetSocketAddress, Deque<PeerConnection>> idle = new ConcurrentHashMap<>();
    private final Map<PeerAddress, InetSocketAddress> addresses = new ConcurrentHashMap<>();
    private final Set<PeerConnection> busy = ConcurrentHashMap.newKeySet();
    /** Peers whose bad checksum was logged: one error per peer, not one per block. */
    private final Set<InetSocketAddress> reportedCorrupt = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread watchdog;
    /** This instance's name in the ring, sent with every request; null until known. */
    private volatile String self;

    /** A client whose memory copies and owner loads get the same request timeout. */
    public PeerClient(PeerToken token, Duration connectTimeout, Duration requestTimeout) {
        this(token, connectTimeout, requestTimeout, requestTimeout);
    }

    /**
     * @param memoryTimeout how long a memory-only answer may take to start
     * @param loadTimeout how long an owner's load (and holder lists, which may poll the group) may take to start
     */
    public PeerClient(PeerToken token, Duration connectTimeout, Duration memoryTimeout, Duration loadTimeout) {
        this(token, null, connectTimeout, memoryTimeout, loadTimeout);
    }

    /** @param tls the group's TLS, or null to speak plain TCP */
    PeerClient(PeerToken token, PeerTls tls, Duration connectTimeout, Duration memoryTimeout, Duration loadTimeout) {
        this.token = token;
        this.tls = tls;
        this.connectTimeout = connectTimeout;
        this.memoryTimeout = memoryTimeout;
        this.loadTimeout = loadTimeout;
        this.watchdog = Thread.ofPlatform().daemon().name("cachefs-peer-watchdog").start(this::watch);
    }

    /** The socket address of {@code peer}, resolved once and remembered until {@link #forget}. */
    InetSocketAddress address(PeerAddress peer) {
        return addresses.computeIfAbsent(peer, PeerAddress::toSocketAddress);
    }

    /** Resolves {@code peer} afresh next time: it failed, and may have moved (a rescheduled pod). */
    void forget(PeerAddress peer) {
        addresses.remove(peer);
    }

    /** Names this instance in its requests, so that peers can count and exclude it. */
    void identifyAs(PeerAddress member) {
        self = member.toString();
    }

    /**
     * Fetches {@code request}'s block from {@code peer} into {@code dst} and verifies its
     * CRC32C. Blocks the calling thread until done or timed out.
     *
     * @param dst exactly {@link BlockRequest#length()} bytes; on anything but
     *     {@link PeerFetch.Fetched} its content is undefined
     * @throws IllegalArgumentException if {@code dst} is not the block's length
     */
    public PeerFetch fetch(InetSocketAddress peer, BlockRequest request, MemorySegment dst) {
        return fetch(peer, request, dst, OptionalInt.empty());
    }

    /**
     * Like {@link #fetch(InetSocketAddress, BlockRequest, MemorySegment)}, and the block's
     * CRC32C, computed once as it arrives, must also be {@code digest} where one is known: the
     * header's CRC32C only proves the bytes are what the peer meant to send, the digest that
     * they are the block's ({@link PeerFetch.Kind#BAD_DIGEST} if not).
     */
    PeerFetch fetch(InetSocketAddress peer, BlockRequest request, MemorySegment dst, OptionalInt digest) {
        return fetch(peer, request, dst, digest, null);
    }

    /**
     * Like {@link #fetch(InetSocketAddress, BlockRequest, MemorySegment, OptionalInt)}, telling
     * {@code arrival} (if not null) the block's CRC32C when its head is in and how far its bytes
     * have landed, so that this member can pass them on while they arrive.
     */
    PeerFetch fetch(InetSocketAddress peer, BlockRequest request, MemorySegment dst, OptionalInt digest,
            Arrival arrival) {
        if (dst.byteSize() != request.length()) {
            throw new IllegalArgumentException("destination of " + dst.byteSize()
                    + " bytes for a block of " + request.length());
        }
        Duration timeout = request.mode() == BlockRequest.Mode.MEMORY ? memoryTimeout : loadTimeout;
        return exchange(peer, () -> requestBytes("GET", peer, request.uri(), null), timeout, (connection, head) -> blockAnswer(connection, head, request, dst, digest, arrival),
                PeerFetch.class);
    }

    /**
     * A GET of {@code uri} whose answer is small (a holder list).
     *
     * @param mayWait whether the peer may take a while (it polls the group first): the load
     *     timeout, else the memory timeout
     */
    Reply get(InetSocketAddress peer, String uri, boolean mayWait) {
        return exchange(peer, () -> requestBytes("GET", peer, uri, null), mayWait ? loadTimeout : memoryTimeout,
                PeerClient::smallAnswer, Reply.class);
    }

    /** A POST of {@code body} to {@code uri} (an announcement); answered at once, so the memory timeout. */
    Reply post(InetSocketAddress peer, String uri, byte[] body) {
        return exchange(peer, () -> requestBytes("POST", peer, uri, body), memoryTimeout, PeerClient::smallAnswer,
                Reply.class);
    }

    private byte[] requestBytes(String method, InetSocketAddress peer, String uri, byte[] body) {
        StringBuilder head = new StringBuilder(256 + uri.length())
                .append(method).append(' ').append(uri).append(" HTTP/1.1\r\n")
                .append("Host: ").append(peer.getHostString()).append(':').append(peer.getPort()).append("\r\n")
                .append("Authorization: ").append(token.authorization(method, uri)).append("\r\n");
        String member = self;
        if (member != null) {
            head.append(WireFormat.MEMBER_HEADER).append(": ").append(member).append("\r\n");
        }
        if (body != null) {
            head.append("Content-Type: text/plain; charset=utf-8\r\nContent-Length: ").append(body.length)
                    .append("\r\n");
        }
        byte[] headBytes = head.append("\r\n").toString().getBytes(ISO_8859_1);
        if (body == null) {
            return headBytes;
        }
        byte[] all = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        return all;
    }

    /**
     * One request and its answer, on a pooled connection or a new one, retried once on a stale one;
     * {@code request} is signed afresh for each attempt (a server takes a signature once).
     */
    private <T> T exchange(InetSocketAddress peer, Supplier<byte[]> request, Duration timeout, BodyReader<T> reader,
            Class<T> type) {
        if (closed.get()) {
            return failure(type, Kind.ERROR, "the peer client is closed");
        }
        long headDeadline = System.nanoTime() + timeout.toNanos();
        for (int attempt = 0; ; attempt++) {
            PeerConnection connection = pooled(peer);
            boolean fresh = connection == null;
            if (fresh) {
                try {
                    connection = PeerConnection.open(peer, connectTimeout, tls);
                } catch (IOException e) {
                    return connectFailure(type, peer, e);
                }
            }
            busy.add(connection);
            Duration silence = BODY_SILENCE.compareTo(timeout) < 0 ? BODY_SILENCE : timeout;
            connection.begin(headDeadline, memoryTimeout.compareTo(timeout) < 0 ? memoryTimeout : timeout, silence,
                    loadTimeout);
            boolean keep = false;
            try {
                connection.send(request.get());
                ResponseHead head = connection.readHead();
                if (head.status() == WireFormat.TLS_REQUIRED) {
                    return failure(type, Kind.TLS_HANDSHAKE, "peer " + peer + " speaks TLS and this member does not: "
                            + TLS_HINT);
                }
                T outcome = reader.read(connection, head);
                keep = head.keepAlive() && !(outcome instanceof Failed) && !(outcome instanceof Reply r && r.failure() != null);
                connection.exchanges++;
                return outcome;
            } catch (EOFException e) {
                if (!fresh && connection.received == 0 && attempt == 0) {
                    continue; // the peer dropped the idle connection: once more on a new one
                }
                return failure(type, connection.received == 0 ? Kind.ERROR : Kind.BAD_RESPONSE,
                        (connection.received == 0 ? "" : "the body is short: ") + e.getMessage());
            } catch (ResponseHead.Malformed e) {
                return failure(type, Kind.BAD_RESPONSE, e.getMessage());
            } catch (SSLException e) {
                if (connection.timedOut) {
                    return failure(type, Kind.TIMEOUT, "no TLS handshake with " + peer + " within "
                            + timeout.toMillis() + " ms");
                }
                if (!fresh && connection.received == 0 && attempt == 0) {
                    continue; // a session the peer ended while idle: the same as a stale connection
                }
                return failure(type, Kind.TLS_HANDSHAKE, "peer " + peer + " did not complete a TLS handshake ("
                        + e.getMessage() + "): " + TLS_HINT);
            } catch (IOException e) {
                if (connection.timedOut) {
                    return failure(type, Kind.TIMEOUT, "no " + (connection.received == 0 ? "answer" : "progress")
                            + " from " + peer + " within " + connection.expiredLimit(timeout).toMillis() + " ms");
                }
                if (e instanceof ClosedByInterruptException) {
                    Thread.currentThread().interrupt();
                    return failure(type, Kind.ERROR, "interrupted");
                }
                if (!fresh && connection.received == 0 && attempt == 0) {
                    continue; // a reset on a reused connection: the same
                }
                return failure(type, Kind.ERROR, "connection to " + peer + " failed: " + e);
            } finally {
                connection.end();
                busy.remove(connection);
                if (keep && !closed.get()) {
                    release(connection);
                } else {
                    connection.close();
                }
            }
        }
    }

    private PeerFetch blockAnswer(PeerConnection connection, ResponseHead head, BlockRequest request,
            MemorySegment dst, OptionalInt digest, Arrival arrival) throws IOException, ResponseHead.Malformed {
        int status = head.status();
        if (status != 200) {
            Reply reply = smallAnswer(connection, head);
            if (reply.failure() != null) {
                return reply.failure();
            }
            String reason = "HTTP " + status + ": " + firstLine(reply.text());
            return switch (status) {
                case 404 -> new PeerFetch.NotThere();
                case 307 -> new PeerFetch.Redirected(holders(head.header(WireFormat.HOLDERS_HEADER_LC)));
                case 401 -> new Failed(Kind.UNAUTHORIZED, reason);
                case 409 -> new Failed(Kind.CONFLICT, reason);
                default -> new Failed(Kind.ERROR, reason);
            };
        }
        if (head.contentLength() != dst.byteSize()) {
            return new Failed(Kind.BAD_RESPONSE, "the peer declared " + head.contentLength() + " bytes for a block of "
                    + dst.byteSize());
        }
        String crc = head.header(WireFormat.CRC32C_HEADER_LC);
        if (crc == null || !CRC.matcher(crc).matches()) {
            return new Failed(Kind.BAD_RESPONSE, "no valid " + WireFormat.CRC32C_HEADER + " header");
        }
        if (arrival != null && (digest.isEmpty() || WireFormat.formatCrc(digest.getAsInt()).equalsIgnoreCase(crc))) {
            arrival.headed(Integer.parseUnsignedInt(crc, 16)); // a block that will not match its digest is not passed on
        }
        CRC32C received = new CRC32C();
        connection.readBody(dst, received, arrival);
        if (!WireFormat.formatCrc((int) received.getValue()).equalsIgnoreCase(crc)) {
            InetSocketAddress peer = connection.peer;
            if (reportedCorrupt.add(peer)) {
                LOG.error("peer {} sent block {} of {} with a wrong CRC32C; its blocks are treated as misses"
                        + " (reported once per peer)", peer, request.index(), request.file().path());
            }
            return new Failed(Kind.BAD_CHECKSUM, "CRC32C mismatch from " + peer);
        }
        if (digest.isPresent() && digest.getAsInt() != (int) received.getValue()) {
            return new Failed(Kind.BAD_DIGEST, "block " + request.index() + " of " + request.file().path()
                    + " has CRC32C " + crc + ", but the group knows it as " + WireFormat.formatCrc(digest.getAsInt()));
        }
        return new PeerFetch.Fetched((int) dst.byteSize());
    }

    private static Reply smallAnswer(PeerConnection connection, ResponseHead head)
            throws IOException, ResponseHead.Malformed {
        if (head.status() == 204) {
            return new Reply(204, new byte[0], head.headers(), null); // no body, by definition
        }
        if (head.contentLength() < 0) {
            return Reply.failed(Kind.BAD_RESPONSE, "an answer without a Content-Length");
        }
        byte[] body = connection.readSmallBody(head.contentLength(), MAX_SMALL_BODY);
        return new Reply(head.status(), body, head.headers(), null);
    }

    /** The members a 307 names; unparsable items are skipped (the caller falls back to the owner). */
    private static List<PeerAddress> holders(String header) {
        List<PeerAddress> holders = new ArrayList<>();
        if (header != null) {
            for (String item : header.split(",")) {
                try {
                    holders.add(PeerAddress.parse(item.strip()));
                } catch (IllegalArgumentException e) {
                    // not a member name: ignore it
                }
            }
        }
        return List.copyOf(holders);
    }

    private static String firstLine(String text) {
        String line = text.lines().findFirst().orElse("").strip();
        return line.length() > 200 ? line.substring(0, 200) : line;
    }

    private PeerConnection pooled(InetSocketAddress peer) {
        Deque<PeerConnection> connections = idle.get(peer);
        if (connections == null) {
            return null;
        }
        PeerConnection connection;
        while ((connection = connections.pollFirst()) != null) {
            if (connection.isOpen()) {
                return connection;
            }
        }
        return null;
    }

    private void release(PeerConnection connection) {
        Deque<PeerConnection> connections = idle.computeIfAbsent(connection.peer, p -> new ConcurrentLinkedDeque<>());
        if (connections.size() >= MAX_IDLE_PER_PEER) {
            connection.close();
        } else {
            connections.addFirst(connection); // the most recently used first: its window is open
        }
        if (closed.get()) {
            closeIdle();
        }
    }

    private static <T> T failure(Class<T> type, Kind kind, String reason) {
        return type == Reply.class ? type.cast(Reply.failed(kind, reason)) : type.cast(new Failed(kind, reason));
    }

    private static <T> T connectFailure(Class<T> type, InetSocketAddress peer, IOException cause) {
        if (cause instanceof SocketTimeoutException) {
            return failure(type, Kind.TIMEOUT, "connecting to " + peer + " timed out");
        }
        if (cause instanceof ConnectException || cause instanceof NoRouteToHostException) {
            return failure(type, Kind.REFUSED, "cannot connect to " + peer + ": " + cause.getMessage());
        }
        return failure(type, Kind.ERROR, "cannot connect to " + peer + ": " + cause);
    }

    /** The watchdog's loop: aborts exchanges past their deadline. */
    private void watch() {
        while (!closed.get()) {
            long now = System.nanoTime();
            for (PeerConnection connection : busy) {
                long deadline = connection.deadline;
                if (deadline != 0 && now - deadline > 0) {
                    connection.timedOut = true;
                    connection.abort();
                }
            }
            try {
                Thread.sleep(WATCH_PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void closeIdle() {
        for (Deque<PeerConnection> connections : idle.values()) {
            PeerConnection connection;
            while ((connection = connections.pollFirst()) != null) {
                connection.close();
            }
        }
    }

    /** Closes every connection, busy ones too (their callers get a failure), and stops the watchdog. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        watchdog.interrupt();
        closeIdle();
        for (PeerConnection connection : busy) {
            connection.abort();
        }
    }
}
