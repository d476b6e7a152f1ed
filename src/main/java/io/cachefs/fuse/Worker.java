package io.cachefs.fuse;

import io.cachefs.linux.Libc;

import io.cachefs.linux.Errno;
import io.cachefs.linux.FileMode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * One thread of the request loop: reads a request from {@code /dev/fuse}, calls the filesystem,
 * writes the reply. The {@link WorkerPool} runs as many as the requests in progress need, so a
 * request that waits on a slow source holds only its own worker.
 *
 * <p>Each worker owns its buffers (request, reply, iovec array) and reuses them for every request:
 * a READ that hits memory allocates nothing here, and its bytes go from the filesystem's memory to
 * the kernel in one {@code writev}. The buffers are small (about 80 KiB), since READ replies
 * point into the filesystem's memory and writes are refused: a pool of hundreds costs little.
 * Besides the filesystem's {@link FuseException}s, this layer answers EROFS to every write,
 * ESTALE to a node the kernel no longer holds, ENOSYS to what it does not implement, and EIO
 * (logged) to anything unexpected.
 */
final class Worker<K> implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

    private static final long IN_HEADER_SIZE = FuseAbi.IN_HEADER.byteSize();
    private static final long OUT_HEADER_SIZE = FuseAbi.OUT_HEADER.byteSize();
    /** Segments one READ reply may gather: a 1 MiB read spans at most a few cache blocks. */
    private static final int MAX_IOVECS = 64;
    private static final VarHandle IOV_BASE = Libc.IOVEC.varHandle(groupElement("iov_base"));
    private static final VarHandle IOV_BASE_ADDRESS = Libc.IOVEC_RAW.varHandle(groupElement("iov_base"));
    private static final VarHandle IOV_LEN = Libc.IOVEC.varHandle(groupElement("iov_len"));

    private final FuseSession<K> session;
    private final WorkerPool pool;
    private final Runnable onLastExit;
    private MemorySegment in;
    private MemorySegment out;
    private MemorySegment iov;
    private MemorySegment capture;
    private final Reply reply = new Reply();
    private final Listing listing = new Listing();

    /** @param onLastExit run when the mount's last worker has stopped (the mount ended) */
    Worker(FuseSession<K> session, WorkerPool pool, Runnable onLastExit) {
        this.session = session;
        this.pool = pool;
        this.onLastExit = onLastExit;
    }

    @Override
    public void run() {
        boolean waiting = true;
        try (Arena arena = Arena.ofConfined()) {
            in = arena.allocate(FuseSession.REQUEST_BUFFER_SIZE, 4096);
            out = arena.allocate(OUT_HEADER_SIZE + FuseSession.REPLY_PAYLOAD_SIZE, 4096);
            iov = arena.allocate(Libc.IOVEC, MAX_IOVECS);
            capture = Libc.newCapture(arena);
            waiting = loop();
        } catch (Throwable t) {
            pool.died();
            LOG.error("FUSE worker stopped by an unexpected error", t);
        }
        if (waiting && pool.exited()) {
            onLastExit.run();
        }
    }

    /** Serves requests; returns true when the mount has ended, false when the pool let this worker go. */
    private boolean loop() {
        while (true) {
            long n = Libc.read(capture, session.fd, in, in.byteSize());
            if (n < 0) {
                int errno = Libc.errno(capture);
                if (errno == Errno.ENODEV) {
                    return true; // unmounted or aborted: the kernel has no more requests for us
                }
                if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.ENOENT) {
                    continue; // ENOENT: the request we were about to get was interrupted
                }
                LOG.error("reading /dev/fuse failed with errno {}; this worker stops", errno);
                pool.died();
                return true;
            }
            if (n < IN_HEADER_SIZE) {
                LOG.error("short FUSE request ({} bytes) ignored", n);
                continue;
            }
            pool.busy();
            handle(n);
            if (!pool.idleAgain()) {
                return false;
            }
        }
    }

    private void handle(long length) {
        int opcode = (int) FuseAbi.IN_OPCODE.get(in, 0L);
        long unique = (long) FuseAbi.IN_UNIQUE.get(in, 0L);
        long nodeId = (long) FuseAbi.IN_NODEID.get(in, 0L);
        if (opcode == FuseAbi.INTERRUPT) {
            session.requests.interrupt((long) FuseAbi.INTERRUPT_UNIQUE.get(in, IN_HEADER_SIZE)); // needs no answer
            return;
        }
        session.requests.begin(unique);
        try {
            dispatch(opcode, unique, nodeId, length);
        } catch (FuseException e) {
            if (!reply.sentFor(unique)) {
                replyError(unique, e.errno());
            }
        } catch (RuntimeException | LinkageError e) {
            LOG.error("FUSE opcode {} on node {} failed; answered EIO", opcode, nodeId, e);
            if (!reply.sentFor(unique)) {
                replyError(unique, Errno.EIO);
            }
        } finally {
            session.requests.end(unique);
        }
    }

    private void dispatch(int opcode, long unique, long nodeId, long length) {
        long arg = IN_HEADER_SIZE;
        switch (opcode) {
            case FuseAbi.INIT -> init(unique, length - arg);
            case FuseAbi.LOOKUP -> lookup(unique, node(nodeId), cString(arg, length));
            case FuseAbi.FORGET -> session.forget(nodeId, (long) FuseAbi.FORGET_IN_NLOOKUP.get(in, arg));
            case FuseAbi.BATCH_FORGET -> batchForget(arg);
            case FuseAbi.GETATTR -> getattr(unique, node(nodeId));
            case FuseAbi.READLINK -> replyBytes(unique, session.fs.readlink(node(nodeId).key)
                    .getBytes(StandardCharsets.UTF_8));
            case FuseAbi.OPEN -> open(unique, node(nodeId), (int) FuseAbi.OPEN_IN_FLAGS.get(in, arg));
            case FuseAbi.READ -> read(unique, node(nodeId), arg);
            case FuseAbi.RELEASE -> release(unique, node(nodeId), (long) FuseAbi.RELEASE_IN_FH.get(in, arg));
            case FuseAbi.OPENDIR -> replyOpen(unique, session.fs.opendir(node(nodeId).key), 0, 0);
            case FuseAbi.READDIR -> readdir(unique, node(nodeId), arg, false);
            case FuseAbi.READDIRPLUS -> readdir(unique, node(nodeId), arg, true);
            case FuseAbi.RELEASEDIR -> {
                session.fs.releasedir(node(nodeId).key, (long) FuseAbi.RELEASE_IN_FH.get(in, arg));
                replyEmpty(unique);
            }
            case FuseAbi.STATFS -> statfs(unique, session.fs.statfs(node(nodeId).key));
            case FuseAbi.GETXATTR -> getxattr(unique, node(nodeId), arg, length);
            case FuseAbi.LISTXATTR -> listxattr(unique, node(nodeId), arg);
            case FuseAbi.ACCESS -> access(unique, node(nodeId), (int) FuseAbi.ACCESS_MASK.get(in, arg));
            case FuseAbi.LSEEK -> lseek(unique, node(nodeId), arg);
            case FuseAbi.FLUSH, FuseAbi.FSYNC, FuseAbi.FSYNCDIR, FuseAbi.SYNCFS, FuseAbi.DESTROY ->
                    replyEmpty(unique); // nothing is ever dirty in a read-only filesystem
            case FuseAbi.SETATTR, FuseAbi.SYMLINK, FuseAbi.MKNOD, FuseAbi.MKDIR, FuseAbi.UNLINK, FuseAbi.RMDIR,
                 FuseAbi.RENAME, FuseAbi.LINK, FuseAbi.WRITE, FuseAbi.SETXATTR, FuseAbi.REMOVEXATTR,
                 FuseAbi.CREATE, FuseAbi.FALLOCATE, FuseAbi.RENAME2, FuseAbi.COPY_FILE_RANGE,
                 FuseAbi.COPY_FILE_RANGE_64, FuseAbi.TMPFILE -> replyError(unique, Errno.EROFS);
            default -> replyError(unique, Errno.ENOSYS); // STATX, locks, ioctl, poll, bmap, DAX mappings
        }
    }

    private NodeTable.Node<K> node(long nodeId) {
        NodeTable.Node<K> node = session.nodes.get(nodeId);
        if (node == null) {
            throw new FuseException(Errno.ESTALE);
        }
        return node;
    }

    // ---- operations --------------------------------------------------------------------------

    private void init(long unique, long argLength) {
        int size = session.negotiate(in, IN_HEADER_SIZE, argLength, out, OUT_HEADER_SIZE);
        boolean done = size > 8;
        writeReply(unique, 0, size);
        if (done) {
            session.initDone();
        }
    }

    private void lookup(long unique, NodeTable.Node<K> parent, String name) {
        Entry<K> entry = session.fs.lookup(parent.key, name);
        NodeTable.Node<K> node = entry.node() == null ? null : session.nodes.remember(entry.node());
        writeEntry(OUT_HEADER_SIZE, node, entry);
        if (!writeReply(unique, 0, FuseAbi.ENTRY_OUT.byteSize()) && node != null) {
            session.forget(node.id, 1); // the kernel never saw the reply, so holds no reference
        }
    }

    private void batchForget(long arg) {
        int count = (int) FuseAbi.BATCH_FORGET_COUNT.get(in, arg);
        long one = arg + FuseAbi.BATCH_FORGET_IN.byteSize();
        for (int i = 0; i < count; i++, one += FuseAbi.FORGET_ONE.byteSize()) {
            session.forget((long) FuseAbi.FORGET_ONE_NODEID.get(in, one), (long) FuseAbi.FORGET_ONE_NLOOKUP.get(in, one));
        }
    }

    private void getattr(long unique, NodeTable.Node<K> node) {
        Attributes attributes = session.fs.getattr(node.key);
        long base = OUT_HEADER_SIZE;
        FuseAbi.ATTR_OUT_VALID.set(out, base, attributes.timeout().getSeconds());
        FuseAbi.ATTR_OUT_VALID_NSEC.set(out, base, attributes.timeout().getNano());
        FuseAbi.ATTR_OUT_DUMMY.set(out, base, 0);
        writeAttr(base + FuseAbi.ATTR_OUT_ATTR_OFFSET, attributes.attr());
        writeReply(unique, 0, FuseAbi.ATTR_OUT.byteSize());
    }

    private void open(long unique, NodeTable.Node<K> node, int flags) {
        if ((flags & Libc.O_ACCMODE) != 0 || (flags & Libc.O_TRUNC) != 0) {
            throw new FuseException(Errno.EROFS);
        }
        OpenFile file = session.fs.open(node.key, flags);
        FuseSession.OpenMode mode = session.open(node, file.backingFd(), file.directIo());
        // the kernel's handle names this open; it knows the filesystem's handle and how it is served
        long handle = session.opens.add(new FuseSession.KernelOpen(file.handle(), mode));
        int openFlags = switch (mode) {
            case SERVED -> file.keepCache() ? FuseAbi.FOPEN_KEEP_CACHE : 0;
            case PASSTHROUGH -> FuseAbi.FOPEN_PASSTHROUGH;
            case DIRECT -> FuseAbi.FOPEN_DIRECT_IO;
        };
        int backingId = mode == FuseSession.OpenMode.PASSTHROUGH ? node.backingId : 0;
        if (!replyOpen(unique, handle, openFlags, backingId)) {
            closeHandle(node, handle); // interrupted: the kernel will never release this open
        }
    }

    private void read(long unique, NodeTable.Node<K> node, long arg) {
        long handle = (long) FuseAbi.READ_IN_FH.get(in, arg);
        long offset = (long) FuseAbi.READ_IN_OFFSET.get(in, arg);
        int size = Math.min((int) FuseAbi.READ_IN_SIZE.get(in, arg), FuseSession.MAX_TRANSFER);
        FuseSession.KernelOpen open = session.opens.get(handle);
        if (open == null) {
            throw new FuseException(Errno.EBADF);
        }
        reply.start(unique, size);
        try {
            session.fs.read(node.key, open.fsHandle(), offset, size, reply);
            reply.send();
        } finally {
            reply.releasePins(); // after the kernel copied the bytes, or on failure
        }
    }

    private void release(long unique, NodeTable.Node<K> node, long handle) {
        closeHandle(node, handle);
        replyEmpty(unique);
    }

    private void closeHandle(NodeTable.Node<K> node, long handle) {
        FuseSession.KernelOpen open = session.opens.remove(handle);
        if (open == null) {
            return; // released twice: a kernel bug, or a stale handle
        }
        try {
            session.fs.release(node.key, open.fsHandle());
        } finally {
            session.release(node, open.mode());
        }
    }

    private void readdir(long unique, NodeTable.Node<K> node, long arg, boolean plus) {
        long handle = (long) FuseAbi.READ_IN_FH.get(in, arg);
        long offset = (long) FuseAbi.READ_IN_OFFSET.get(in, arg);
        // a listing may come in pieces: the kernel asks again from the offset where this one ends
        int size = Math.min((int) FuseAbi.READ_IN_SIZE.get(in, arg), FuseSession.REPLY_PAYLOAD_SIZE);
        listing.start(plus, size);
        session.fs.readdir(node.key, handle, offset, listing);
        writeReply(unique, 0, listing.used);
    }

    private void statfs(long unique, FsStats stats) {
        long base = OUT_HEADER_SIZE;
        out.asSlice(base, FuseAbi.STATFS_OUT.byteSize()).fill((byte) 0);
        FuseAbi.STATFS_BLOCKS.set(out, base, stats.blocks());
        FuseAbi.STATFS_BFREE.set(out, base, stats.blocksFree());
        FuseAbi.STATFS_BAVAIL.set(out, base, stats.blocksAvailable());
        FuseAbi.STATFS_FILES.set(out, base, stats.files());
        FuseAbi.STATFS_FFREE.set(out, base, stats.filesFree());
        FuseAbi.STATFS_BSIZE.set(out, base, stats.blockSize());
        FuseAbi.STATFS_NAMELEN.set(out, base, stats.maxNameLength());
        FuseAbi.STATFS_FRSIZE.set(out, base, stats.blockSize());
        writeReply(unique, 0, FuseAbi.STATFS_OUT.byteSize());
    }

    private void getxattr(long unique, NodeTable.Node<K> node, long arg, long length) {
        int size = (int) FuseAbi.GETXATTR_SIZE.get(in, arg);
        String name = cString(arg + FuseAbi.GETXATTR_IN.byteSize(), length);
        replySized(unique, size, session.fs.getxattr(node.key, name));
    }

    private void listxattr(long unique, NodeTable.Node<K> node, long arg) {
        int size = (int) FuseAbi.GETXATTR_SIZE.get(in, arg);
        List<String> names = session.fs.listxattr(node.key);
        StringBuilder joined = new StringBuilder();
        for (String name : names) {
            joined.append(name).append('\0');
        }
        replySized(unique, size, joined.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** getxattr/listxattr: size 0 asks for the length only; a too-small buffer is ERANGE. */
    private void replySized(long unique, int size, byte[] value) {
        if (size == 0) {
            FuseAbi.GETXATTR_SIZE.set(out, OUT_HEADER_SIZE, value.length);
            FuseAbi.GETXATTR_PADDING.set(out, OUT_HEADER_SIZE, 0);
            writeReply(unique, 0, FuseAbi.GETXATTR_IN.byteSize());
        } else if (value.length > size) {
            replyError(unique, Errno.ERANGE);
        } else {
            replyBytes(unique, value);
        }
    }

    private void access(long unique, NodeTable.Node<K> node, int mask) {
        if ((mask & Libc.W_OK) != 0) {
            throw new FuseException(Errno.EROFS);
        }
        session.fs.getattr(node.key); // existence; permissions are checked by the kernel (default_permissions)
        replyEmpty(unique);
    }

    private void lseek(long unique, NodeTable.Node<K> node, long arg) {
        int whence = (int) FuseAbi.LSEEK_WHENCE.get(in, arg);
        if (whence != FuseAbi.SEEK_DATA && whence != FuseAbi.SEEK_HOLE) {
            throw new FuseException(Errno.EINVAL);
        }
        FuseSession.KernelOpen open = session.opens.get((long) FuseAbi.LSEEK_FH.get(in, arg));
        if (open == null) {
            throw new FuseException(Errno.EBADF);
        }
        long found = session.fs.seek(node.key, open.fsHandle(),
                (long) FuseAbi.LSEEK_OFFSET.get(in, arg), whence == FuseAbi.SEEK_HOLE);
        FuseAbi.LSEEK_OUT_OFFSET.set(out, OUT_HEADER_SIZE, found);
        writeReply(unique, 0, FuseAbi.LSEEK_OUT.byteSize());
    }

    // ---- encoding ----------------------------------------------------------------------------

    private void writeEntry(long base, NodeTable.Node<K> node, Entry<K> entry) {
        FuseAbi.ENTRY_NODEID.set(out, base, node == null ? 0L : node.id);
        FuseAbi.ENTRY_GENERATION.set(out, base, node == null ? 0L : node.generation);
        setTimeout(base, FuseAbi.ENTRY_VALID, FuseAbi.ENTRY_VALID_NSEC, entry.entryTimeout());
        setTimeout(base, FuseAbi.ENTRY_ATTR_VALID, FuseAbi.ENTRY_ATTR_VALID_NSEC, entry.attrTimeout());
        writeAttr(base + FuseAbi.ENTRY_ATTR_OFFSET, entry.attr());
    }

    private void setTimeout(long base, VarHandle seconds, VarHandle nanos, Duration timeout) {
        seconds.set(out, base, timeout.getSeconds());
        nanos.set(out, base, timeout.getNano());
    }

    private void writeAttr(long base, Attr attr) {
        FuseAbi.ATTR_INO.set(out, base, attr.ino());
        FuseAbi.ATTR_SIZE.set(out, base, attr.size());
        FuseAbi.ATTR_BLOCKS.set(out, base, attr.blocks());
        FuseAbi.ATTR_ATIME.set(out, base, Math.floorDiv(attr.atimeNanos(), 1_000_000_000L));
        FuseAbi.ATTR_MTIME.set(out, base, Math.floorDiv(attr.mtimeNanos(), 1_000_000_000L));
        FuseAbi.ATTR_CTIME.set(out, base, Math.floorDiv(attr.ctimeNanos(), 1_000_000_000L));
        FuseAbi.ATTR_ATIMENSEC.set(out, base, (int) Math.floorMod(attr.atimeNanos(), 1_000_000_000L));
        FuseAbi.ATTR_MTIMENSEC.set(out, base, (int) Math.floorMod(attr.mtimeNanos(), 1_000_000_000L));
        FuseAbi.ATTR_CTIMENSEC.set(out, base, (int) Math.floorMod(attr.ctimeNanos(), 1_000_000_000L));
        FuseAbi.ATTR_MODE.set(out, base, attr.mode());
        FuseAbi.ATTR_NLINK.set(out, base, attr.nlink());
        FuseAbi.ATTR_UID.set(out, base, attr.uid());
        FuseAbi.ATTR_GID.set(out, base, attr.gid());
        FuseAbi.ATTR_RDEV.set(out, base, 0);
        FuseAbi.ATTR_BLKSIZE.set(out, base, 0); // 0: the kernel reports its default block size
        FuseAbi.ATTR_FLAGS.set(out, base, 0);
    }

    private String cString(long offset, long end) {
        long nul = offset;
        while (nul < end && in.get(JAVA_BYTE, nul) != 0) {
            nul++;
        }
        return new String(in.asSlice(offset, nul - offset).toArray(JAVA_BYTE),
                StandardCharsets.UTF_8);
    }

    // ---- replies -----------------------------------------------------------------------------

    private boolean replyOpen(long unique, long handle, int openFlags, int backingId) {
        FuseAbi.OPEN_OUT_FH.set(out, OUT_HEADER_SIZE, handle);
        FuseAbi.OPEN_OUT_FLAGS.set(out, OUT_HEADER_SIZE, openFlags);
        FuseAbi.OPEN_OUT_BACKING_ID.set(out, OUT_HEADER_SIZE, backingId);
        return writeReply(unique, 0, FuseAbi.OPEN_OUT.byteSize());
    }

    private void replyBytes(long unique, byte[] bytes) {
        if (bytes.length > FuseSession.REPLY_PAYLOAD_SIZE) {
            throw new FuseException(Errno.ERANGE);
        }
        MemorySegment.copy(bytes, 0, out, JAVA_BYTE, OUT_HEADER_SIZE, bytes.length);
        writeReply(unique, 0, bytes.length);
    }

    private void replyEmpty(long unique) {
        writeReply(unique, 0, 0);
    }

    private void replyError(long unique, int errno) {
        writeReply(unique, errno, 0);
    }

    /** Writes the reply whose payload is in {@code out}; false if the kernel no longer wanted it. */
    private boolean writeReply(long unique, int errno, long payload) {
        long length = OUT_HEADER_SIZE + payload;
        setHeader(unique, errno, length);
        IOV_BASE.set(iov, 0L, out);
        IOV_LEN.set(iov, 0L, length);
        return writeIovecs(1, length);
    }

    private void setHeader(long unique, int errno, long length) {
        FuseAbi.OUT_LEN.set(out, 0L, (int) length);
        FuseAbi.OUT_ERROR.set(out, 0L, -errno);
        FuseAbi.OUT_UNIQUE.set(out, 0L, unique);
    }

    private boolean writeIovecs(int count, long length) {
        long written = Libc.writev(capture, session.fd, iov, count);
        if (written == length) {
            return true;
        }
        int errno = written < 0 ? Libc.errno(capture) : 0;
        if (errno != Errno.ENOENT && errno != Errno.ENODEV) { // ENOENT: interrupted; ENODEV: unmounted
            LOG.error("writing a FUSE reply failed: {} of {} bytes, errno {}", written, length, errno);
        }
        return false;
    }

    /** The READ reply: the out header followed by the filesystem's segments, in one writev. */
    private final class Reply implements ReadReply {
        private long unique;
        private int limit;
        private int count;
        private long total;
        private boolean sent;
        /** What keeps the segments valid until the kernel has copied them: closed after the write. */
        private final AutoCloseable[] pins = new AutoCloseable[MAX_IOVECS];
        private int pinCount;

        void start(long unique, int limit) {
            this.unique = unique;
            this.limit = limit;
            this.count = 1; // iovec 0 is the out header
            this.total = 0;
            this.sent = false;
            this.pinCount = 0;
        }

        @Override
        public void add(MemorySegment segment) {
            add(segment, 0, segment.byteSize());
        }

        @Override
        public void add(MemorySegment segment, long offset, long length, AutoCloseable pin) {
            pins[pinCount++] = pin; // released even if the add fails
            add(segment, offset, length);
        }

        /** Closes the pins of this reply; their failures are logged, never thrown over the reply. */
        void releasePins() {
            for (int i = 0; i < pinCount; i++) {
                try {
                    pins[i].close();
                } catch (Exception e) {
                    LOG.error("releasing what a read reply held failed", e);
                }
                pins[i] = null;
            }
            pinCount = 0;
        }

        @Override
        public void add(MemorySegment segment, long offset, long length) {
            Objects.checkFromIndexSize(offset, length, segment.byteSize());
            if (sent) {
                throw new IllegalStateException("the reply was already sent");
            }
            if (total + length > limit) {
                throw new IllegalArgumentException("read reply of " + (total + length) + " bytes exceeds the "
                        + limit + " requested");
            }
            if (count == MAX_IOVECS) {
                throw new IllegalStateException("a read reply gathers at most " + (MAX_IOVECS - 1) + " segments");
            }
            if (!segment.isNative()) {
                throw new IllegalArgumentException("a read reply gathers native memory only: the kernel cannot read "
                        + "the Java heap");
            }
            if (length == 0) {
                return;
            }
            long at = count * Libc.IOVEC.byteSize();
            IOV_BASE_ADDRESS.set(iov, at, segment.address() + offset);
            IOV_LEN.set(iov, at, length);
            count++;
            total += length;
        }

        void send() {
            if (sent) {
                return;
            }
            sent = true;
            long length = OUT_HEADER_SIZE + total;
            setHeader(unique, 0, length);
            IOV_BASE.set(iov, 0L, out);
            IOV_LEN.set(iov, 0L, OUT_HEADER_SIZE);
            writeIovecs(count, length);
        }

        boolean sentFor(long request) {
            return sent && unique == request;
        }
    }

    /** A READDIR or READDIRPLUS reply being filled in {@code out}. */
    private final class Listing implements DirectoryListing<K> {
        private boolean plus;
        private long limit;
        long used;

        void start(boolean plus, int limit) {
            this.plus = plus;
            this.limit = limit;
            this.used = 0;
        }

        @Override
        public boolean add(String name, Entry<K> entry, long nextOffset) {
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            long direntSize = FuseAbi.DIRENT.byteSize() + bytes.length;
            long recordSize = FuseAbi.direntAlign((plus ? FuseAbi.ENTRY_OUT.byteSize() : 0) + direntSize);
            if (used + recordSize > limit) {
                return false;
            }
            long base = OUT_HEADER_SIZE + used;
            long dirent = base;
            if (plus) {
                boolean dots = name.equals(".") || name.equals("..");
                NodeTable.Node<K> node = dots || entry.node() == null ? null : session.nodes.remember(entry.node());
                writeEntry(base, node, entry);
                dirent = base + FuseAbi.ENTRY_OUT.byteSize();
            }
            FuseAbi.DIRENT_INO.set(out, dirent, entry.attr().ino());
            FuseAbi.DIRENT_OFF.set(out, dirent, nextOffset);
            FuseAbi.DIRENT_NAMELEN.set(out, dirent, bytes.length);
            FuseAbi.DIRENT_TYPE.set(out, dirent, (entry.attr().mode() & FileMode.S_IFMT) >>> 12);
            MemorySegment.copy(bytes, 0, out, JAVA_BYTE,
                    dirent + FuseAbi.DIRENT.byteSize(), bytes.length);
            out.asSlice(dirent + direntSize, base + recordSize - dirent - direntSize).fill((byte) 0);
            used += recordSize;
            return true;
        }
    }
}
