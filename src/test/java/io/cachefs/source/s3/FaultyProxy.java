package io.cachefs.source.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 proxy on loopback in front of an {@link S3Server} that breaks requests on
 * purpose, the way a real store or network does now and then: answers 503 SlowDown, resets a
 * connection in the middle of a response, or stops sending in the middle of one and holds the
 * connection open. Faults are planned ahead and given to the next ranged GETs (requests with a
 * Range header), or to the next requests of any kind.
 *
 * <p>It forwards each request on a new upstream connection that it closes after the response
 * (so a response ends where the upstream's bytes end), and keeps the client's connection open
 * for the next request, as a keep-alive server does. Requests must have no body (GET, HEAD):
 * uploads go to the server directly. Every socket it opened is closed on {@link #close}.
 */
public final class FaultyProxy implements AutoCloseable {

    /** What to do to one request. */
    public enum Fault {
        /** Answer 503 SlowDown without asking the server. */
        SLOW_DOWN,
        /** Forward, pass {@link #FAULT_AFTER_BYTES} of the response, then reset the connection. */
        RESET,
        /** Forward, pass {@link #FAULT_AFTER_BYTES} of the response, then send nothing more until the client leaves. */
        STALL
    }

    /** Past the response head, into the body. */
    static final int FAULT_AFTER_BYTES = 300_000;

    private final ServerSocket listener;
    private final URI upstream;
    private final Queue<Fault> rangedFaults = new ConcurrentLinkedQueue<>();
    private final Queue<Fault> anyFaults = new ConcurrentLinkedQueue<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger faultsDone = new AtomicInteger();
    private final List<Socket> sockets = new ArrayList<>();
    private final Thread acceptor;
    private volatile boolean closed;

    public FaultyProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = Thread.ofPlatform().name("faulty-proxy").daemon(true).start(this::accept);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort());
    }

    /** The next ranged GETs get these faults, one each, in order. */
    public void failRangedGets(Fault... faults) {
        rangedFaults.addAll(List.of(faults));
    }

    /** The next requests of any kind get these faults, one each, in order. */
    public void failRequests(Fault... faults) {
        anyFaults.addAll(List.of(faults));
    }

    /** Requests seen so far. */
    public int requests() {
        return requests.get();
    }

    /** Faults carried out so far. */
    public int faultsDone() {
        return faultsDone.get();
    }

    /** Planned faults not yet carried out. */
    public int faultsLeft() {
        return rangedFaults.size() + anyFaults.size();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                if (!register(client)) {
                    return;
                }
                Thread.ofPlatform().name("faulty-proxy-conn").daemon(true).start(() -> serve(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private boolean register(Socket socket) throws IOException {
        synchronized (sockets) {
            if (closed) {
                socket.close();
                return false;
            }
            sockets.add(socket);
            return true;
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            while (!closed) {
                byte[] head = readHead(in);
                if (head == null) {
                    return;
                }
                requests.incrementAndGet();
                String text = new String(head, StandardCharsets.ISO_8859_1);
                boolean ranged = text.toLowerCase(Locale.ROOT).contains("\r\nrange:");
                Fault fault = anyFaults.poll();
                if (fault == null && ranged) {
                    fault = rangedFaults.poll();
                }
                if (fault != null) {
                    faultsDone.incrementAndGet();
                }
                if (fault == Fault.SLOW_DOWN) {
                    byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                            + "<Message>Please reduce your request rate.</Message></Error>").getBytes(StandardCharsets.UTF_8);
                    out.write(("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: "
                            + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    if (!text.startsWith("HEAD ")) {
                        out.write(body); // a response to HEAD has no body, whatever its length says
                    }
                    out.flush();
                    continue;
                }
                if (!forward(head, client, out, fault)) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client left, or we are closing
        }
    }

    /** Forwards one request and relays its response; false if the client connection is done for. */
    private boolean forward(byte[] head, Socket client, OutputStream out, Fault fault)
            throws IOException, InterruptedException {
        try (Socket server = new Socket()) {
            if (!register(server)) {
                return false;
            }
            server.connect(new InetSocketAddress(upstream.getHost(), upstream.getPort()), 5000);
            server.getOutputStream().write(withConnectionClose(head));
            server.getOutputStream().flush();
            InputStream response = server.getInputStream();
            byte[] responseHead = readHead(response);
            if (responseHead == null) {
                return false;
            }
            // The upstream closes after this response: a body without a length or chunks ends with that
            // connection, so the client's must end too, and the client must know not to reuse it.
            boolean closeAfter = closeDelimited(responseHead);
            byte[] rewritten = rewriteConnection(responseHead, closeAfter);
            out.write(rewritten);
            long relayed = rewritten.length;
            byte[] buffer = new byte[64 << 10];
            int n;
            while ((n = response.read(buffer)) > 0) {
                if (fault != null && relayed + n >= FAULT_AFTER_BYTES) {
                    int part = (int) Math.max(0, FAULT_AFTER_BYTES - relayed);
                    out.write(buffer, 0, part);
                    out.flush();
                    if (fault == Fault.RESET) {
                        client.setSoLinger(true, 0); // close sends RST
                        client.close();
                        return false;
                    }
                    // STALL: hold the connection, sending nothing, until the client gives up or we close
                    while (!closed && client.getInputStream().read() >= 0) {
                        // discard whatever the client sends
                    }
                    return false;
                }
                out.write(buffer, 0, n);
                relayed += n;
            }
            out.flush();
            return !closeAfter;
        } finally {
            synchronized (sockets) {
                sockets.removeIf(Socket::isClosed);
            }
        }
    }

    private static boolean closeDelimited(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        return !text.contains("\r\ncontent-length:") && !text.contains("\r\ntransfer-encoding: chunked")
                && !text.startsWith("http/1.1 304") && !text.startsWith("http/1.1 204");
    }

    /** A response head without the upstream's Connection header, with {@code Connection: close} if asked. */
    private static byte[] rewriteConnection(byte[] head, boolean close) {
        StringBuilder rewritten = new StringBuilder();
        for (String line : new String(head, StandardCharsets.ISO_8859_1).split("\r\n")) {
            if (!line.isEmpty() && !line.toLowerCase(Locale.ROOT).startsWith("connection:")) {
                rewritten.append(line).append("\r\n");
            }
        }
        rewritten.append(close ? "Connection: close\r\n\r\n" : "\r\n");
        return rewritten.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The request head with {@code Connection: close}, so the upstream's response ends with its connection. */
    private static byte[] withConnectionClose(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        StringBuilder rewritten = new StringBuilder();
        for (String line : text.split("\r\n")) {
            if (!line.isEmpty() && !line.toLowerCase(Locale.ROOT).startsWith("connection:")) {
                rewritten.append(line).append("\r\n");
            }
        }
        rewritten.append("Connection: close\r\n\r\n");
        return rewritten.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Bytes up to and including the blank line that ends a request head; null at end of stream. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toByteArray();
            }
            if (head.size() > 64 << 10) {
                throw new IOException("request head too long");
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        synchronized (sockets) {
            for (Socket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
            sockets.clear();
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
