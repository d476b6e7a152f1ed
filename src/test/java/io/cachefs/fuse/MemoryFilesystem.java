package io.cachefs.fuse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small in-memory filesystem for testing the FUSE layer: directories, symlinks and files whose
 * bytes live in memfds, keyed by path ("" is the root). Counts reads, opens and forgets.
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
    final AtomicInteger releases = new AtomicInteger();
    final Map<String, AtomicInteger> forgets = new ConcurrentHashMap<>();
    volatile Duration timeout = Duration.ofSeconds(1);
    volatile FuseConnection connection;
    volatile int backingFdOverride = -2;
    private final long mtime = System.currentTimeMillis() * 1_000_000L;

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
        Node node = nodes.get(path);
        if (node == null) {
            throw new FuseException(Errno.ENOENT);
        }
        long ino = inodes.computeIfAbsent(path, p -> nextInode.getAndIncrement());
        return switch (node) {
            case Dir dir -> new Attr(ino, Attr.S_IFDIR | 0755, 2, 0, 0, 4096, 8, mtime, mtime, mtime);
            case File file -> new Attr(ino, Attr.S_IFREG | 0644, 1, 0, 0, file.data().size, file.data().size / 512,
                    mtime, mtime, mtime);
            case Link link -> new Attr(ino, Attr.S_IFLNK | 0777, 1, 0, 0, link.target().length(), 0,
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
            if (!listing.add(names.get(i), new Entry<>(path, attr(path), timeout, timeout), i + 1)) {
                return;
            }
        }
    }

    @Override
    public OpenFile open(String node, int flags) {
        if (!(nodes.get(node) instanceof File file)) {
            throw new FuseException(Errno.EISDIR);
        }
        opens.incrementAndGet();
        if (file.passthrough()) {
            return OpenFile.passthrough(1, backingFdOverride != -2 ? backingFdOverride : file.data().fd);
        }
        return directIo ? OpenFile.direct(1) : OpenFile.served(1, file.keepCache());
    }

    @Override
    public void read(String node, long handle, long offset, int size, ReadReply reply) {
        reads.incrementAndGet();
        if (!(nodes.get(node) instanceof File file)) {
            throw new FuseException(Errno.EIO);
        }
        long length = Math.max(0, Math.min(size, file.data().size - offset));
        if (length > 0) {
            reply.add(file.data().bytes.asSlice(offset, length));
            bytesRead.addAndGet(length);
        }
    }

    @Override
    public void release(String node, long handle) {
        releases.incrementAndGet();
    }

    @Override
    public FsStats statfs(String node) {
        return new FsStats(1000, 0, 0, nodes.size(), 0, 4096, 255);
    }
}
