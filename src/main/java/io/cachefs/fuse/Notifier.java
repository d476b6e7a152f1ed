package io.cachefs.fuse;

import io.cachefs.linux.Libc;

import io.cachefs.linux.Errno;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Sends cache invalidation notices to the kernel from a thread of its own.
 *
 * <p>Why a thread: the kernel handles a notice inside our write, and INVAL_ENTRY takes the parent
 * directory's lock. Sent from a worker that is itself answering a lookup in that directory, it
 * would wait for a lock its own request holds. Queued here, no request ever waits on a notice.
 */
final class Notifier implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    private static final long OUT_HEADER_SIZE = FuseAbi.OUT_HEADER.byteSize();
    private static final java.lang.invoke.VarHandle IOV_BASE = Libc.IOVEC.varHandle(groupElement("iov_base"));
    private static final java.lang.invoke.VarHandle IOV_LEN = Libc.IOVEC.varHandle(groupElement("iov_len"));

    private sealed interface Notice permits InvalidateInode, InvalidateEntry, Stop {
    }

    private record InvalidateInode(long nodeId, CompletableFuture<Void> done) implements Notice {
    }

    private record InvalidateEntry(long parentId, String name, CompletableFuture<Void> done) implements Notice {
    }

    private record Stop() implements Notice {
    }

    private final int fd;
    private final BlockingQueue<Notice> queue = new LinkedBlockingQueue<>();
    private final Thread thread;

    Notifier(int fd, String name) {
        this.fd = fd;
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::run);
    }

    /** Drops the kernel's cached attributes and pages of a node. */
    CompletableFuture<Void> invalidateInode(long nodeId) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new InvalidateInode(nodeId, done));
        return done;
    }

    /** Drops the kernel's cached dentry (positive or negative) of {@code name} in a directory. */
    CompletableFuture<Void> invalidateEntry(long parentId, String name) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        queue.add(new InvalidateEntry(parentId, name, done));
        return done;
    }

    @Override
    public void close() {
        queue.add(new Stop());
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(OUT_HEADER_SIZE + 64 + 4096, 8);
            MemorySegment iov = arena.allocate(Libc.IOVEC);
            MemorySegment capture = Libc.newCapture(arena);
            while (true) {
                Notice notice = queue.take();
                switch (notice) {
                    case Stop stop -> {
                        return;
                    }
                    case InvalidateInode inode -> {
                        long base = OUT_HEADER_SIZE;
                        FuseAbi.INVAL_INODE_INO.set(buffer, base, inode.nodeId());
                        FuseAbi.INVAL_INODE_OFF.set(buffer, base, 0L); // from offset 0 ...
                        FuseAbi.INVAL_INODE_LEN.set(buffer, base, 0L); // ... to the end: every page
                        send(buffer, iov, capture, FuseAbi.NOTIFY_INVAL_INODE,
                                base + FuseAbi.NOTIFY_INVAL_INODE_OUT.byteSize(), inode.done());
                    }
                    case InvalidateEntry entry -> {
                        byte[] name = entry.name().getBytes(StandardCharsets.UTF_8);
                        long base = OUT_HEADER_SIZE;
                        FuseAbi.INVAL_ENTRY_PARENT.set(buffer, base, entry.parentId());
                        FuseAbi.INVAL_ENTRY_NAMELEN.set(buffer, base, name.length);
                        FuseAbi.INVAL_ENTRY_FLAGS.set(buffer, base, 0);
                        long nameAt = base + FuseAbi.NOTIFY_INVAL_ENTRY_OUT.byteSize();
                        MemorySegment.copy(name, 0, buffer, JAVA_BYTE, nameAt, name.length);
                        buffer.set(JAVA_BYTE, nameAt + name.length, (byte) 0);
                        send(buffer, iov, capture, FuseAbi.NOTIFY_INVAL_ENTRY, nameAt + name.length + 1, entry.done());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(MemorySegment buffer, MemorySegment iov, MemorySegment capture, int code, long length,
                      CompletableFuture<Void> done) {
        FuseAbi.OUT_LEN.set(buffer, 0L, (int) length);
        FuseAbi.OUT_ERROR.set(buffer, 0L, code);
        FuseAbi.OUT_UNIQUE.set(buffer, 0L, 0L);
        IOV_BASE.set(iov, 0L, buffer);
        IOV_LEN.set(iov, 0L, length);
        long written = Libc.writev(capture, fd, iov, 1);
        int errno = written < 0 ? Libc.errno(capture) : 0;
        // ENOENT: the kernel does not have that node or name cached, so there was nothing to drop.
        if (written < 0 && errno != Errno.ENOENT && errno != Errno.ENODEV) {
            LOG.warn("FUSE invalidation notice {} failed with errno {}", code, errno);
        }
        done.complete(null);
    }
}
