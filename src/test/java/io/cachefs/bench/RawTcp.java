package io.cachefs.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ThreadLocalRandom;
import io.cachefs.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A raw TCP stream between two addresses, the baseline a peer hit is compared with: one side
 * writes BYTES from memory, the other reads them into a 4 MiB buffer and throws them away, as
 * fast as the kernel and the link allow (no HTTP, no checksum, no file).
 *
 * <pre>
 * RawTcp serve HOST:PORT BYTES      # accepts one connection, writes BYTES, exits
 * RawTcp fetch HOST:PORT [FROM]     # connects (from address FROM), reads to the end;
 *                                   # prints "bytes seconds"
 * RawTcp pair FROM TO:PORT BYTES    # both in one process (loopback): prints "bytes seconds"
 * </pre>
 */
public final class RawTcp {
    private static final int BUFFER = 4 << 20;

    public static void main(String[] args) throws Exception {
        switch (args.length > 0 ? args[0] : "") {
            case "serve" -> serve(address(args[1]), Long.parseLong(args[2]), null);
            case "fetch" -> fetch(address(args[1]), args.length > 2 ? args[2] : null);
            case "pair-fresh", "pair-bounce" -> {
                InetSocketAddress to = address(args[2]);
                ServerSocketChannel server = ServerSocketChannel.open().bind(to);
                long bytes = Long.parseLong(args[3]);
                Thread sender = Thread.ofPlatform().daemon().start(() -> { // a failed receiver must not leave it waiting
                    try {
                        serve(to, bytes, server);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                fetchFresh(to, args[1], bytes, args[0].equals("pair-bounce"));
                sender.join();
            }
            case "pair" -> {
                InetSocketAddress to = address(args[2]);
                ServerSocketChannel server = ServerSocketChannel.open().bind(to);
                Thread sender = Thread.ofPlatform().daemon().start(() -> { // a failed receiver must not leave it waiting
                    try {
                        serve(to, Long.parseLong(args[3]), server);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                fetch(to, args[1]);
                sender.join();
            }
            default -> {
                System.err.println("usage: RawTcp serve HOST:PORT BYTES | fetch HOST:PORT [FROM] | pair FROM TO:PORT BYTES");
                System.exit(2);
            }
        }
    }

    private static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    private static void serve(InetSocketAddress at, long bytes, ServerSocketChannel bound) throws IOException {
        try (ServerSocketChannel server = bound != null ? bound : ServerSocketChannel.open().bind(at);
             SocketChannel peer = server.accept()) {
            ByteBuffer data = ByteBuffer.allocateDirect(BUFFER);
            byte[] random = new byte[BUFFER];
            ThreadLocalRandom.current().nextBytes(random);
            data.put(random);
            long left = bytes;
            while (left > 0) {
                data.clear().limit((int) Math.min(BUFFER, left));
                while (data.hasRemaining()) {
                    left -= peer.write(data);
                }
            }
        }
    }

    private static void fetch(InetSocketAddress from, String localHost) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
        try (SocketChannel channel = connect(from, localHost)) {
            long t0 = System.nanoTime();
            long total = 0;
            int n;
            while ((n = channel.read(buffer.clear())) >= 0) {
                total += n;
            }
            System.out.printf("%d %.6f%n", total, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** Like fetch, but into fresh memfd pages, populated 4 MiB at a time, as the cache receives a block. */
    private static void fetchFresh(InetSocketAddress from, String localHost, long bytes, boolean bounce) throws Exception {
        MemorySegment warm = Arena.global().allocate(BUFFER, 4096);
        int fd = Libc.memfdCreate("cachefs-bench-rawtcp");
        try (Arena arena = Arena.ofShared();
                SocketChannel channel = connect(from, localHost)) {
            Libc.ftruncate(fd, bytes);
            MemorySegment file = Libc.mapShared(fd, bytes, arena);
            long t0 = System.nanoTime();
            long total = 0;
            while (total < bytes) {
                MemorySegment block = file.asSlice(total, Math.min(BUFFER, bytes - total));
                Libc.populate(block);
                ByteBuffer target = (bounce ? warm.asSlice(0, block.byteSize()) : block).asByteBuffer();
                while (target.hasRemaining()) {
                    if (channel.read(target) < 0) {
                        throw new IOException("short");
                    }
                }
                if (bounce) {
                    MemorySegment.copy(warm, 0, block, 0, block.byteSize());
                }
                total += block.byteSize();
            }
            System.out.printf("%d %.6f%n", total, (System.nanoTime() - t0) / 1e9);
        } finally {
            Libc.close(fd);
        }
    }

    /** Connects from {@code localHost} (any if null); the server may still be starting (another process): retries for a few seconds. */
    private static SocketChannel connect(InetSocketAddress to, String localHost) throws IOException {
        for (int attempt = 0; ; attempt++) {
            SocketChannel channel = SocketChannel.open();
            try {
                if (localHost != null) {
                    channel.bind(new InetSocketAddress(localHost, 0));
                }
                channel.connect(to);
                return channel;
            } catch (IOException e) {
                channel.close();
                if (attempt >= 100) {
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    throw new IOException("interrupted", interrupted);
                }
            }
        }
    }
}
