package io.cachefs.fuse;

import io.cachefs.linux.Libc;

import io.cachefs.linux.Errno;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The state one mount's workers share: the {@code /dev/fuse} descriptor, the filesystem, the node
 * table, what INIT agreed on, and passthrough's backing files.
 */
final class FuseSession<K> {
    private static final Logger LOG = LoggerFactory.getLogger(FuseSession.class);

    /** The largest READ payload: 256 pages, what max_pages allows. */
    static final int MAX_TRANSFER = 1 << 20;
    /**
     * The largest WRITE payload we accept, the smallest the kernel allows: every write is
     * refused anyway, and it is what sizes the request buffer of every worker.
     */
    static final int MAX_WRITE = 4096;
    /**
     * Enough for any request a read-only filesystem serves: header, the largest argument struct
     * and a name, and at least the kernel's FUSE_MIN_READ_BUFFER (8 KiB) and header + write_in +
     * {@link #MAX_WRITE}. A larger request (a big SETXATTR) is refused by the kernel itself.
     */
    static final int REQUEST_BUFFER_SIZE = 16 << 10;
    /**
     * Room for the payload of every reply but READ's, which points into the filesystem's memory:
     * an xattr value (at most 64 KiB) or a piece of a directory listing.
     */
    static final int REPLY_PAYLOAD_SIZE = 64 << 10;
    /**
     * Kernel-side queue of async requests (readahead). Reads of several blocks in flight keep the
     * workers and the cache's loaders busy; the kernel's default of 12 is tuned for small files.
     */
    private static final int MAX_BACKGROUND = 64;
    private static final int CONGESTION_THRESHOLD = 48;

    final int fd;
    final FuseFilesystem<K> fs;
    final NodeTable<K> nodes;
    final MountOptions options;
    final String target;
    final RequestsInProgress requests = new RequestsInProgress();
    /** The kernel's file handles: each names one open, how it is served, and the filesystem's own handle. */
    final SlotTable<KernelOpen> opens = new SlotTable<>(1);

    /** One open the kernel holds: the filesystem's handle, and the io mode RELEASE must undo. */
    record KernelOpen(long fsHandle, OpenMode mode) {}
    final CountDownLatch initialized = new CountDownLatch(1);
    private volatile FuseConnection connection;
    private volatile boolean passthroughRefused;
    private final AtomicBoolean refusalLogged = new AtomicBoolean();

    FuseSession(int fd, FuseFilesystem<K> fs, MountOptions options, String target) {
        this.fd = fd;
        this.fs = fs;
        this.options = options;
        this.target = target;
        this.nodes = new NodeTable<>(fs.root());
    }

    FuseConnection connection() {
        return connection;
    }

    /**
     * Answers INIT into {@code out} (after the out header) and returns the reply's payload size:
     * 8 (major and minor only) when the kernel's major version is newer and it will send INIT
     * again with ours.
     */
    int negotiate(MemorySegment in, long argOffset, long argLength, MemorySegment out, long replyOffset) {
        int major = (int) FuseAbi.INIT_IN_MAJOR.get(in, argOffset);
        int minor = (int) FuseAbi.INIT_IN_MINOR.get(in, argOffset);
        int maxReadahead = (int) FuseAbi.INIT_IN_MAX_READAHEAD.get(in, argOffset);
        long kernelFlags = Integer.toUnsignedLong((int) FuseAbi.INIT_IN_FLAGS.get(in, argOffset));
        if ((kernelFlags & FuseAbi.INIT_EXT) != 0 && argLength >= FuseAbi.INIT_IN.byteSize()) {
            kernelFlags |= Integer.toUnsignedLong((int) FuseAbi.INIT_IN_FLAGS2.get(in, argOffset)) << 32;
        }
        out.asSlice(replyOffset, FuseAbi.INIT_OUT.byteSize()).fill((byte) 0);
        FuseAbi.INIT_OUT_MAJOR.set(out, replyOffset, FuseAbi.KERNEL_VERSION);
        FuseAbi.INIT_OUT_MINOR.set(out, replyOffset, FuseAbi.KERNEL_MINOR_VERSION);
        if (major > FuseAbi.KERNEL_VERSION) {
            return 8; // major and minor only; the kernel retries with 7.x
        }
        if (major < FuseAbi.KERNEL_VERSION || minor < 13) {
            throw new FuseException(Errno.EPROTO,
                    "kernel FUSE protocol " + major + "." + minor + " is too old (need 7.13 or newer)");
        }
        long wanted = FuseAbi.ASYNC_READ | FuseAbi.AUTO_INVAL_DATA
                | FuseAbi.DO_READDIRPLUS | FuseAbi.READDIRPLUS_AUTO | FuseAbi.PARALLEL_DIROPS
                | FuseAbi.MAX_PAGES | FuseAbi.CACHE_SYMLINKS | FuseAbi.INIT_EXT | FuseAbi.DIRECT_IO_ALLOW_MMAP;
        boolean passthrough = options.passthrough() && (kernelFlags & FuseAbi.PASSTHROUGH) != 0;
        if (passthrough) {
            wanted |= FuseAbi.PASSTHROUGH; // never together with WRITEBACK_CACHE: the kernel would refuse it
        } else if (options.passthrough()) {
            LOG.warn("the kernel offers FUSE {}.{} without passthrough (needs Linux 6.9+ built with "
                    + "CONFIG_FUSE_PASSTHROUGH): every file is served by READ requests", major, minor);
        }
        long agreed = wanted & kernelFlags;
        FuseAbi.INIT_OUT_MAX_READAHEAD.set(out, replyOffset, maxReadahead);
        FuseAbi.INIT_OUT_FLAGS.set(out, replyOffset, (int) agreed);
        FuseAbi.INIT_OUT_FLAGS2.set(out, replyOffset, (int) (agreed >>> 32));
        FuseAbi.INIT_OUT_MAX_BACKGROUND.set(out, replyOffset, (short) MAX_BACKGROUND);
        FuseAbi.INIT_OUT_CONGESTION_THRESHOLD.set(out, replyOffset, (short) CONGESTION_THRESHOLD);
        FuseAbi.INIT_OUT_MAX_WRITE.set(out, replyOffset, MAX_WRITE);
        FuseAbi.INIT_OUT_TIME_GRAN.set(out, replyOffset, 1);
        FuseAbi.INIT_OUT_MAX_PAGES.set(out, replyOffset, (short) (MAX_TRANSFER / 4096));
        FuseAbi.INIT_OUT_MAX_STACK_DEPTH.set(out, replyOffset, passthrough ? 1 : 0);
        int maxRead = (agreed & FuseAbi.MAX_PAGES) != 0 ? MAX_TRANSFER : 128 * 1024;
        connection = new FuseConnection(major, minor, maxRead, passthrough && (agreed & FuseAbi.PASSTHROUGH) != 0,
                (agreed & FuseAbi.DIRECT_IO_ALLOW_MMAP) != 0);
        LOG.debug("INIT: kernel {}.{} flags {}, agreed {}", major, minor, Long.toHexString(kernelFlags),
                Long.toHexString(agreed));
        return minor < 23 ? FuseAbi.INIT_OUT_SIZE_COMPAT_22 : (int) FuseAbi.INIT_OUT.byteSize();
    }

    void initDone() {
        fs.init(connection);
        initialized.countDown();
    }

    /** How one open is served, decided for the kernel's per-inode io mode. */
    enum OpenMode {
        /** READ requests through the page cache. */
        SERVED,
        /** The kernel reads the backing file. */
        PASSTHROUGH,
        /** READ requests bypassing the page cache (mappings still use it, see FuseConnection). */
        DIRECT
    }

    /**
     * Decides how an open of {@code node} is served and counts it. The kernel keeps one io mode
     * per inode: passthrough opens and page-cached opens never coexist (it answers EBUSY or
     * ETXTBSY), so a node with served opens gets no more passthrough, and a node with passthrough
     * opens serves any other open without the page cache.
     *
     */
    OpenMode open(NodeTable.Node<K> node, int backingFd, boolean directIo) {
        synchronized (node) {
            if (node.backingOpens > 0) {
                node.backingOpens++;
                return OpenMode.PASSTHROUGH;
            }
            if (backingFd >= 0 && node.servedOpens == 0 && registerBacking(node, backingFd)) {
                node.backingOpens = 1;
                return OpenMode.PASSTHROUGH;
            }
            node.servedOpens++; // direct opens too: a mapping of one takes the page-cached io mode
            return directIo ? OpenMode.DIRECT : OpenMode.SERVED;
        }
    }

    /** An open of {@code node} in {@code mode} was released (or its reply never reached the kernel). */
    void release(NodeTable.Node<K> node, OpenMode mode) {
        synchronized (node) {
            switch (mode) {
                case SERVED, DIRECT -> node.servedOpens--;
                case PASSTHROUGH -> {
                    if (--node.backingOpens == 0) {
                        closeBacking(node.backingId);
                        node.backingId = 0;
                    }
                }
            }
        }
    }

    /** BACKING_OPEN; false (logged once) if the kernel refused, so the open is served by READ. */
    private boolean registerBacking(NodeTable.Node<K> node, int backingFd) {
        FuseConnection agreed = connection;
        if (agreed == null || !agreed.passthrough() || passthroughRefused) {
            return false;
        }
        int id;
        int errno;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Libc.newCapture(arena);
            MemorySegment map = arena.allocate(FuseAbi.BACKING_MAP);
            FuseAbi.BACKING_MAP_FD.set(map, 0L, backingFd);
            id = Libc.ioctl(capture, fd, FuseAbi.DEV_IOC_BACKING_OPEN, map);
            errno = Libc.errno(capture);
        }
        if (id <= 0) {
            boolean forGood = errno == Errno.EPERM || errno == Errno.EOPNOTSUPP || errno == Errno.ENOTTY;
            if (forGood) {
                passthroughRefused = true;
            }
            if (refusalLogged.compareAndSet(false, true)) {
                LOG.warn("the kernel refused a passthrough backing file (errno {}{}): serving {} by READ requests",
                        errno, errno == Errno.EPERM ? ", needs CAP_SYS_ADMIN" : "",
                        forGood ? "every file" : "such files");
            }
            return false;
        }
        node.backingId = id;
        return true;
    }

    private void closeBacking(int backingId) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Libc.newCapture(arena);
            MemorySegment id = arena.allocateFrom(Libc.INT, backingId);
            if (Libc.ioctl(capture, fd, FuseAbi.DEV_IOC_BACKING_CLOSE, id) < 0) {
                LOG.debug("BACKING_CLOSE {} failed: errno {}", backingId, Libc.errno(capture));
            }
        }
    }

    /** Drops kernel references; tells the filesystem about nodes the kernel no longer knows. */
    void forget(long nodeId, long count) {
        K gone = nodes.forget(nodeId, count);
        if (gone != null) {
            fs.forget(gone);
        }
    }
}
