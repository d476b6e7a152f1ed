package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * A peer on a plain server socket, misbehaving or scripted: it answers each request (by its
 * request line) with whatever bytes the test hands it, or never answers if they are null.
 */
final class FakePeer implements AutoCloseable {

    private final ServerSocket server;
    private final Function<String, byte[]> answer;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private final int chunk;
    private final long pauseMillis;

    FakePeer(Function<String, byte[]> answer) throws IOException {
        this(answer, Integer.MAX_VALUE, 0);
    }

    /** A peer that sends each answer {@code chunk} bytes at a time, {@code pauseMillis} apart: a slow uplink. */
    FakePeer(Function<String, byte[]> answer, int chunk, long pauseMillis) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.answer = answer;
        this.chunk = chunk;
        this.pauseMillis = pauseMillis;
        this.acceptor = Thread.ofVirtual().start(this::accept);
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    int connections() {
        return connections.size();
    }

    private void accept() {
        try {
            while (true) {
                Socket socket = server.accept();
                connections.add(socket);
                Thread.ofVirtual().start(() -> serve(socket));
            }
        } catch (IOException closed) {
            // the test is over
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), ISO_8859_1));
            while (true) {
                String requestLine = in.readLine();
                if (requestLine == null) {
                    return;
                }
                long body = 0;
                for (String line = in.readLine(); line != null && !line.isEmpty();
                        line = in.readLine()) {
                    // only the body's length is looked at: an announcement's body is not a request
                    if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                        body = Long.parseLong(line.substring(15).strip());
                    }
                }
                while (body > 0) { // one char per byte in ISO-8859-1
                    long skipped = in.skip(body);
                    if (skipped <= 0) {
                        return;
                    }
                    body -= skipped;
                }
                byte[] response = answer.apply(requestLine);
                if (response == null) {
                    Thread.sleep(Long.MAX_VALUE);
                }
                for (int from = 0; from < response.length; from += chunk) {
                    if (from > 0) {
                        Thread.sleep(pauseMillis);
                    }
                    socket.getOutputStream().write(response, from, Math.min(chunk, response.length - from));
                    socket.getOutputStream().flush();
                }
            }
        } catch (IOException | InterruptedException closed) {
            // the test is over
        }
    }

    /**
     * The answer of a warm member {@code self} holding every block of {@code content} (cut into
     * blocks of {@code blockSize}) to {@code uri}: its holder list, any block with its CRC32C,
     * announcements taken, anything else 404.
     */
    static byte[] holdingEverything(String uri, byte[] content, int blockSize, PeerAddress self) {
        if (uri.startsWith(WireFormat.HOLDERS_PATH)) {
            BitSet all = new BitSet();
            all.set(0, Math.ceilDiv(content.length, blockSize));
            return answer("200 OK", new Holdings(Map.of(self, all)).encodeBytes());
        }
        if (uri.startsWith(WireFormat.BLOCKS_PATH)) {
            int index = Integer.parseInt(uri.substring(WireFormat.BLOCKS_PATH.length(), uri.indexOf('?')));
            byte[] block = Arrays.copyOfRange(content, index * blockSize, Math.min(content.length, (index + 1) * blockSize));
            CRC32C crc = new CRC32C();
            crc.update(block);
            return answer("200 OK", block, WireFormat.CRC32C_HEADER + ": " + WireFormat.formatCrc((int) crc.getValue()));
        }
        if (uri.startsWith(WireFormat.HOLDINGS_PATH)) {
            return answer("204 No Content", new byte[0]);
        }
        return answer("404 Not Found", new byte[0]);
    }

    /** An answer with {@code status} (e.g. "200 OK"), any further header lines, and a Content-Length. */
    static byte[] answer(String status, byte[] body, String... headers) {
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status);
        for (String header : headers) {
            head.append("\r\n").append(header);
        }
        return response(head.append("\r\nContent-Length: ").append(body.length).toString(), body);
    }

    /** A response head and body as raw bytes. */
    static byte[] response(String head, byte[] body) {
        byte[] headBytes = (head + "\r\n\r\n").getBytes(ISO_8859_1);
        byte[] bytes = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, bytes, 0, headBytes.length);
        System.arraycopy(body, 0, bytes, headBytes.length, body.length);
        return bytes;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : connections) {
            socket.close();
        }
        acceptor.interrupt();
    }
}
