package io.cachefs.fuse;

import io.cachefs.linux.Errno;
import io.cachefs.linux.FileMode;
import io.cachefs.linux.Libc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * A small in-memory filesystem for testing the FUSE layer: directories, symlinks and files whose
 * bytes live in memfds, keyed by path ("" is the root). Counts reads, opens and forgets.
 *
 * <p>It can also behave like an object-storage mount for tests of what reads it: every open
 * handle may be capped to a rate (a capped connection per ranged GET), reads that do not continue
 * where the handle's last read ended are counted as seeks (a new request on such a mount), reads
 * of chosen paths can hang until released, and a file can be rewritten in place.
 */
final class MemoryFilesystem implements FuseFilesystem<String> {
    sealed interface Node permits Dir, File, Link {
    }

    record Dir(NavigableMap<String, Boolean> children) implements Node {
    }

    record File(Memfd data, boolean passthrough, boolean keepCache) implements Node {
    }

    record Link(String target) implements Node {
    }

    final Map<String, Node> nodes = new ConcurrentHashMap<>();
    final Map<String, Long> inodes = new ConcurrentHashMap<>();
    final AtomicLong nextInode = new AtomicLong(1);
    final AtomicInteger reads = new AtomicInteger();
    final AtomicLong bytesRead = new AtomicLong();
    /** Serve every file with direct I/O, so that every byte read reaches {@link #read} and is counted. */
    volatile boolean directIo;
    final AtomicInteger opens = new AtomicInteger();
    /** Opens whose flags had O_DIRECT: the opener wanted no page cache of the file. */
    final AtomicInteger directOpens = new AtomicInteger();
    /** Whether opens with O_DIRECT are refused with EINVAL, as some FUSE servers do. */
    volatile boolean refusesDirectOpens;
    final AtomicInteger releases = new AtomicInteger();
    final Map<String, AtomicInteger> forgets = new ConcurrentHashMap<>();
    volatile Duration timeout = Duration.ofSeconds(1);
    volatile FuseConnection connection;
    volatile int backingFdOverride = -2;
    private final long mtime = System.currentTimeMillis() * 1_000_000L;
    /** Files rewritten since they were added: their own mtime. */
    private final Map<String, Long> mtimes = new ConcurrentHashMap<>();
    /** Caps every open handle to this many bytes per second; 0 for no cap. */
    volatile long handleBytesPerSecond;
    /** Reads that did not start where their handle's previous read ended. */
    final AtomicInteger seeks = new AtomicInteger();
    /** Reads of these paths wait here until the latch is released. */
    final Map<String, CountDownLatch> hangs = new ConcurrentHashMap<>();
    /** Lookups, getattrs and listings of these paths (a listing: of an entry in it) wait here until released. */
    final Map<String, CountDownLatch> statHangs = new ConcurrentHashMap<>();
    /** Lookups and getattrs of these paths fail with EIO. */
    final Set<String> statFailures = ConcurrentHashMap.newKeySet();
    /** Reads of these paths that cover the offset fail with EIO. */
    final Map<String, Long> readFailures = new ConcurrentHashMap<>();
    /** Reads of these paths end (0 bytes, EOF) at the offset, though the size says more. */
    final Map<String, Long> earlyEnds = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** Per open handle: [position after its last read, bytes read, nanoTime of its first read]. */
    private final Map<Long, long[]> handles = new ConcurrentHashMap<>();

    MemoryFilesystem() {
        nodes.put("", new Dir(new ConcurrentSkipListMap<>()));
    }

    void mkdir(String path) {
        add(path, new Dir(new ConcurrentSkipListMap<>()));
    }

    void file(String path, Memfd data, boolean passthrough, boolean keepCache) {
        add(path, new File(data, passthrough, keepCache));
    }

    void symlink(String path, String target) {
        add(path, new Link(target));
    }

    void remove(String path) {
        nodes.remove(path);
        ((Dir) nodes.get(parentOf(path))).children().remove(nameOf(path));
    }

    private void add(String path, Node node) {
        nodes.put(path, node);
        ((Dir) nodes.get(parentOf(path))).children().put(nameOf(path), true);
    }

    static String parentOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "" : path.substring(0, slash);
    }

    static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static String child(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    @Override
    public String root() {
        return "";
    }

    @Override
    public void init(FuseConnection connection) {
        this.connection = connection;
    }

    @Override
    public Entry<String> lookup(String parent, String name) {
        String path = child(parent, name);
        return new Entry<>(path, attr(path), timeout, timeout);
    }

    @Override
    public void forget(String node) {
        forgets.computeIfAbsent(node, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public Attributes getattr(String node) {
        return new Attributes(attr(node), timeout);
    }

    Attr attr(String path) {
        await(statHangs.get(path));
        if (statFailures.contains(path)) {
            throw new FuseException(Errno.EIO);
        }
        Node node = nodes.get(path);
        if (node == null) {
            throw new FuseException(Errno.ENOENT);
        }
        long ino = inodes.computeIfAbsent(path, p -> nextInode.getAndIncrement());
        return switch (node) {
            case Dir dir -> new Attr(ino, FileMode.S_IFDIR | 0755, 2, 0, 0, 4096, 8, mtime, mtime, mtime);
            case File file -> {
                long fileMtime = mtimes.getOrDefault(path, mtime);
                yield new Attr(ino, FileMode.S_IFREG | 0644, 1, 0, 0, file.data().size, file.data().size / 512,
                        fileMtime, fileMtime, fileMtime);
            }
            case Link link -> new Attr(ino, FileMode.S_IFLNK | 0777, 1, 0, 0, link.target().length(), 0,
                    mtime, mtime, mtime);
        };
    }

    @Override
    public String readlink(String node) {
        if (nodes.get(node) instanceof Link link) {
            return link.target();
        }
        throw new FuseException(Errno.EINVAL);
    }

    @Override
    public void readdir(String node, long handle, long offset, DirectoryListing<String> listing) {
        if (!(nodes.get(node) instanceof Dir dir)) {
            throw new FuseException(Errno.ENOTDIR);
        }
        List<String> names = new ArrayList<>(dir.children().keySet());
        for (int i = (int) offset; i < names.size(); i++) {
            String path = child(node, names.get(i));
            Attr attr;
            if (statFailures.contains(path)) {
                // the directory lists it; only a stat of it fails (a broken object, a stale NFS handle)
                attr = new Attr(inodes.computeIfAbsent(path, p -> nextInode.getAndIncrement()), FileMode.S_IFREG | 0644,
                        1, 0, 0, 0, 0, mtime, mtime, mtime);
            } else {
                attr = attr(path);
            }
            if (!listing.add(names.get(i), new Entry<>(path, attr, timeout, timeout), i + 1)) {
                return;
            }
        }
    }

    @Override
    public OpenFile open(String node, int flags) {
        if (!(nodes.get(node) instanceof File file)) {
            throw new FuseException(Errno.EISDIR);
        }
        if (refusesDirectOpens && (flags & Libc.O_DIRECT) != 0) {
            throw new FuseException(Errno.EINVAL);
        }
        opens.incrementAndGet();
        if ((flags & Libc.O_DIRECT) != 0) {
            directOpens.incrementAndGet();
        }
        long handle = nextHandle.getAndIncrement();
        handles.put(handle, new long[] {0, 0, 0});
        if (file.passthrough()) {
            return OpenFile.passthrough(handle, backingFdOverride != -2 ? backingFdOverride : file.data().fd);
        }
        return directIo ? OpenFile.direct(handle) : OpenFile.served(handle, file.keepCache());
    }

    /**
     * Rewrites {@code path} in place with the pattern of {@code seed}: the mtime changes first,
     * then the bytes, as a write(2) does, so a reader that checks the mtime after reading never
     * takes new bytes for old.
     */
    void rewrite(String path, int seed) {
        File file = (File) nodes.get(path);
        mtimes.put(path, mtimes.getOrDefault(path, mtime) + 1_000_000_000L);
        file.data().fillPattern(0, file.data().size, seed);
    }

    @Override
    public void read(String node, long handle, long offset, int size, ReadReply reply) {
        reads.incrementAndGet();
        if (!(nodes.get(node) instanceof File file)) {
            throw new FuseException(Errno.EIO);
        }
        await(hangs.get(node));
        long length = Math.max(0, Math.min(size, file.data().size - offset));
        Long failAt = readFailures.get(node);
        if (failAt != null && offset <= failAt && failAt < offset + Math.max(1, length)) {
            throw new FuseException(Errno.EIO);
        }
        Long endAt = earlyEnds.get(node);
        if (endAt != null) {
            length = Math.max(0, Math.min(length, endAt - offset));
        }
        long[] state = handles.get(handle);
        if (state != null) {
            pace(state, offset, length);
        }
        if (length > 0) {
            reply.add(file.data().bytes.asSlice(offset, length));
            bytesRead.addAndGet(length);
        }
    }

    private static void await(CountDownLatch hang) {
        if (hang != null) {
            try {
                hang.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FuseException(Errno.EINTR);
            }
        }
    }

    /** Counts a seek if the read does not continue the handle's last one; sleeps to keep the handle under its cap. */
    private void pace(long[] state, long offset, long length) {
        long sleepNanos = 0;
        synchronized (state) {
            if (state[1] > 0 && offset != state[0]) {
                seeks.incrementAndGet();
            }
            if (state[1] == 0) {
                state[2] = System.nanoTime();
            }
            state[0] = offset + length;
            state[1] += length;
            long cap = handleBytesPerSecond;
            if (cap > 0) {
                long due = state[2] + (long) (state[1] * 1e9 / cap);
                sleepNanos = due - System.nanoTime();
            }
        }
        if (sleepNanos > 0) {
            try {
                Thread.sleep(Duration.ofNanos(sleepNanos));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void release(String node, long handle) {
        releases.incrementAndGet();
        handles.remove(handle);
    }

    @Override
    public FsStats statfs(String node) {
        return new FsStats(1000, 0, 0, nodes.size(), 0, 4096, 255);
    }
}
