package io.cachefs.fs;

import io.cachefs.linux.FileMode;

import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLayout;
import io.cachefs.cache.BlockLease;
import io.cachefs.cache.BlockOrigin;
import io.cachefs.cache.PinnedFile;
import io.cachefs.fuse.Attr;
import io.cachefs.fuse.Attributes;
import io.cachefs.fuse.DirectoryListing;
import io.cachefs.fuse.Entry;
import io.cachefs.linux.Errno;
import io.cachefs.fuse.FsStats;
import io.cachefs.fuse.FuseConnection;
import io.cachefs.fuse.FuseException;
import io.cachefs.fuse.FuseFilesystem;
import io.cachefs.fuse.FuseMount;
import io.cachefs.fuse.OpenFile;
import io.cachefs.fuse.ReadReply;
import io.cachefs.fuse.SlotTable;
import io.cachefs.namespace.Namespace;
import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import io.cachefs.source.SourceEntry;
import io.cachefs.source.SourceUnavailableException;
import io.cachefs.source.StaleVersionException;
import io.cachefs.stats.Counters;
import io.cachefs.stats.Counts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;
import java.util.Optional;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * CacheFS as a read-only FUSE filesystem: the source tree by way of the {@link Namespace}, file
 * bytes by way of the {@link BlockCache}.
 *
 * <p>Read path: an open of a file whose blocks are all in memory pins them and hands the
 * kernel the memory-backed file (passthrough: no READ reaches us). Other opens are served by
 * READ: the blocks covering the request are acquired (pinned; loaded on a miss), gathered into the
 * reply straight from cache memory, sent, and unpinned. Opening a large file starts loading all
 * of it in the background; for smaller ones, a sequential reader's next blocks are wanted before
 * its current one is awaited, so the source stays busy.
 *
 * <p>Versions: a file's node key carries the version it had at lookup, so a changed source file
 * is a new inode to the kernel. An open of an outdated inode answers ESTALE, which makes the
 * kernel look the name up again and open the new version. Errno is decided here, at the FUSE
 * boundary, and only here.
 */
public final class CacheFs implements FuseFilesystem<NodeKey> {
    private static final Logger LOG = LoggerFactory.getLogger(CacheFs.class);

    /** One open of a file. */
    private static final class OpenHandle {
        final FileVersion version;
        final PinnedFile pin;
        /** What this open was served, by tier: what {@link #STATE_XATTR} reports. */
        final Counters<ReadCounter> reads = new Counters<>(ReadCounter.class);
        /** The last block a read touched, for sequential detection; races only blur readahead. */
        long lastBlock = -1;
        boolean failureLogged;

        OpenHandle(FileVersion version, PinnedFile pin) {
            this.version = version;
            this.pin = pin;
        }
    }

    /**
     * The extended attribute that tells a client ({@code cachefs warmup}) about one file, through
     * the mount itself: {@code whole=1|0} (every block in memory) and the bytes the file's open
     * handles were served by tier, {@code memory=N peer=N source=N}. Asked for by name only: it
     * is not listed, so copying tools that keep xattrs do not copy it.
     */
    public static final String STATE_XATTR = "user.cachefs";

    private final BlockCache cache;
    private final BlockLayout layout;
    private final Namespace namespace;
    private final CacheFsOptions options;
    private final SlotTable<OpenHandle> handles = new SlotTable<>(0);
    private final Counters<ReadCounter> counters = new Counters<>(ReadCounter.class);
    private volatile boolean kernelPassthrough;
    private volatile boolean kernelDirectIoMmap;
    private volatile FuseMount<NodeKey> mount;

    public CacheFs(Source source, BlockCache cache, CacheFsOptions options) {
        this.cache = cache;
        this.layout = cache.layout();
        this.options = options;
        this.namespace = new Namespace(source, options.metadataTimeout(), this::sourceChanged);
    }

    /** Lets the filesystem tell the kernel about source changes; call once mounted. */
    public void attach(FuseMount<NodeKey> mount) {
        this.mount = mount;
    }

    /** What the mount served since start. */
    public Counts<ReadCounter> counts() {
        return counters.snapshot();
    }

    /** Metadata answered from memory past its time because the source did not answer. */
    public long staleMetadataAnswers() {
        return namespace.staleAnswers();
    }

    @Override
    public NodeKey root() {
        return NodeKey.ROOT;
    }

    @Override
    public void init(FuseConnection connection) {
        kernelPassthrough = connection.passthrough();
        kernelDirectIoMmap = connection.directIoMmap();
    }

    // ---- metadata ----------------------------------------------------------------------------

    @Override
    public Entry<NodeKey> lookup(NodeKey parent, String name) {
        String path = parent.child(name);
        SourceEntry entry = stat(path).orElseThrow(() -> new FuseException(Errno.ENOENT));
        return entryOf(entry);
    }

    private Entry<NodeKey> entryOf(SourceEntry entry) {
        NodeKey key = new NodeKey(entry.path(), entry.kind() == SourceEntry.Kind.FILE ? entry.version() : null);
        // a file that keeps changing is looked up at every open, so the open finds the version it checks
        Duration timeout = namespace.changing(entry.path()) ? Duration.ZERO : options.metadataTimeout();
        return new Entry<>(key, attrOf(entry), timeout, timeout);
    }

    @Override
    public Attributes getattr(NodeKey node) {
        Optional<SourceEntry> now = stat(node.path());
        FileVersion version = node.version();
        if (version == null) {
            return new Attributes(attrOf(now.orElseThrow(() -> new FuseException(Errno.ENOENT))),
                    options.metadataTimeout());
        }
        if (now.isPresent() && now.get().kind() == SourceEntry.Kind.FILE && now.get().version().equals(version)) {
            return new Attributes(attrOf(now.get()), options.metadataTimeout());
        }
        // An inode of an older version (still open somewhere): it keeps describing that version.
        return new Attributes(new Attr(0, FileMode.S_IFREG | 0444, 1, 0, 0, version.size(), Math.ceilDiv(version.size(), 512),
                version.mtimeNanos(), version.mtimeNanos(), version.mtimeNanos()), options.metadataTimeout());
    }

    private static Attr attrOf(SourceEntry e) {
        return new Attr(e.inode(), e.mode(), e.nlink(), e.uid(), e.gid(), e.size(), e.blocks(), e.atimeNanos(),
                e.mtimeNanos(), e.ctimeNanos());
    }

    @Override
    public String readlink(NodeKey node) {
        try {
            return namespace.readlink(node.path());
        } catch (IOException e) {
            throw errno(e, "readlink " + node.path());
        }
    }

    @Override
    public void readdir(NodeKey node, long handle, long offset, DirectoryListing<NodeKey> listing) {
        List<SourceEntry> entries;
        try {
            entries = namespace.list(node.path());
        } catch (IOException e) {
            throw errno(e, "list " + node.path());
        }
        for (int i = (int) offset; i < entries.size(); i++) {
            SourceEntry entry = entries.get(i);
            if (!listing.add(entry.name(), entryOf(entry), i + 1)) {
                return;
            }
        }
    }

    @Override
    public FsStats statfs(NodeKey node) {
        var stats = cache.stats();
        long capacity = stats.capacityBytes() / 4096;
        long free = Math.max(0, stats.capacityBytes() - stats.usedBytes()) / 4096;
        return new FsStats(capacity, free, free, stats.filesCached(), 0, 4096, 255);
    }

    // ---- file bytes --------------------------------------------------------------------------

    @Override
    public OpenFile open(NodeKey node, int flags) {
        if (node.version() == null) {
            throw new FuseException(Errno.EISDIR);
        }
        FileVersion version = node.version();
        try {
            SourceEntry now = namespace.statFresh(node.path()).orElseThrow(() -> new FuseException(Errno.ENOENT));
            if (now.kind() != SourceEntry.Kind.FILE || !now.version().equals(version)) {
                throw new FuseException(Errno.ESTALE); // the kernel looks the name up again and retries
            }
        } catch (SourceUnavailableException e) {
            // The source does not answer (not "gone", not "changed"): a file held whole is the
            // version last verified, so a warm service rides out the outage on it.
            if (!cache.isFullyCached(version)) {
                throw errno(e, "stat " + node.path());
            }
            counters.increment(ReadCounter.OFFLINE_OPENS);
            LOG.debug("{}: the source does not answer, serving the version last verified", node.path());
        } catch (IOException e) {
            throw errno(e, "stat " + node.path());
        }
        PinnedFile pin = null;
        if (options.passthrough() && kernelPassthrough && cache.isFullyCached(version)) {
            try {
                pin = cache.pinWhole(version).orElse(null);
            } catch (IOException e) {
                LOG.warn("could not pin {} for passthrough, serving it by READ: {}", version.path(), e.toString());
            }
        }
        long handle = handles.add(new OpenHandle(version, pin));
        if (pin != null) {
            counters.increment(ReadCounter.PASSTHROUGH_OPENS);
            return OpenFile.passthrough(handle, pin.fd());
        }
        if (version.size() >= options.wholeFileFromBytes()) {
            // the file is coming whole anyway: a loader that reads it out of order (mmap, tensors
            // in header order, threads) waits no longer than a sequential reader would
            cache.loadWhole(version);
        } else {
            // nearly every open reads the first block next: its load starts now, with the version
            // just checked, rather than a request later (a file replaced meanwhile is then gone)
            cache.prefetch(version, 0, 1);
        }
        if (!options.keepPageCache() && kernelDirectIoMmap) {
            // No page cache wanted: direct I/O copies each read straight from cache memory into
            // the reader's buffer, once, instead of filling pages first (2-2.5x faster, and no
            // second copy of the file in RAM). Mappings still work, through the page cache.
            return OpenFile.direct(handle);
        }
        return OpenFile.served(handle, options.keepPageCache());
    }

    @Override
    public void read(NodeKey node, long handle, long offset, int size, ReadReply reply) {
        OpenHandle open = handles.get(handle);
        if (open == null) {
            throw new FuseException(Errno.EBADF);
        }
        FileVersion version = open.version;
        long end = Math.min(version.size(), offset + size);
        if (offset >= end) {
            return; // end of file
        }
        long first = layout.blockIndex(offset);
        long last = layout.blockIndex(end - 1);
        readahead(open, first, last);
        try {
            for (long index = first; index <= last; index++) {
                BlockLease lease = cache.acquire(version, index);
                long blockStart = layout.offset(index);
                long from = Math.max(offset, blockStart);
                long to = Math.min(end, blockStart + lease.bytes().byteSize());
                reply.add(lease.bytes(), from - blockStart, to - from, lease); // unpinned once the kernel copied
                long fresh = lease.deliverFresh(to - from);
                if (fresh > 0) {
                    ReadCounter tier = lease.origin() == BlockOrigin.PEER ? ReadCounter.PEER_BYTES
                            : ReadCounter.SOURCE_BYTES;
                    counters.add(tier, fresh);
                    open.reads.add(tier, fresh);
                }
                counters.add(ReadCounter.MEMORY_BYTES, to - from - fresh);
                open.reads.add(ReadCounter.MEMORY_BYTES, to - from - fresh);
            }
        } catch (InterruptedIOException e) {
            throw new FuseException(Errno.EINTR); // the reader was killed or signalled: nobody waits for the bytes
        } catch (IOException e) {
            counters.increment(ReadCounter.FAILED_READS);
            if (!open.failureLogged) {
                open.failureLogged = true;
                if (e instanceof StaleVersionException || e.getCause() instanceof StaleVersionException) {
                    LOG.error("{} changed in the source while open: the bytes of the opened version can no "
                            + "longer be had, reads fail with EIO until it is reopened ({})", version.path(),
                            e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
                } else {
                    LOG.error("reading {} at {} failed, answering EIO: {}", version.path(), offset, e.toString());
                }
            }
            throw new FuseException(Errno.EIO);
        }
    }

    /**
     * Wants the blocks a sequential reader is entering and the next ones, once per block it
     * enters, before the current block is awaited: the stream that loads the current block goes
     * on into the next ones in order, and the source works on them meanwhile.
     */
    private void readahead(OpenHandle open, long first, long last) {
        long previous = open.lastBlock;
        open.lastBlock = last;
        boolean sequential = first == 0 || (first >= previous && first <= previous + 1);
        if (options.readaheadBlocks() > 0 && last != previous && sequential) {
            cache.prefetch(open.version, first, (int) (last - first + 1) + options.readaheadBlocks());
        }
    }

    @Override
    public byte[] getxattr(NodeKey node, String name) {
        FileVersion version = node.version();
        if (version == null || !name.equals(STATE_XATTR)) {
            throw new FuseException(Errno.ENODATA);
        }
        long[] tiers = new long[3];
        handles.forEach(open -> {
            if (open.version.equals(version)) {
                tiers[0] += open.reads.get(ReadCounter.MEMORY_BYTES);
                tiers[1] += open.reads.get(ReadCounter.PEER_BYTES);
                tiers[2] += open.reads.get(ReadCounter.SOURCE_BYTES);
            }
        });
        return String.format(Locale.ROOT, "whole=%d memory=%d peer=%d source=%d",
                cache.isFullyCached(version) ? 1 : 0, tiers[0], tiers[1], tiers[2])
                .getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void release(NodeKey node, long handle) {
        OpenHandle open = handles.remove(handle);
        if (open != null && open.pin != null) {
            open.pin.close();
        }
    }

    // ---- source changes ----------------------------------------------------------------------

    private Optional<SourceEntry> stat(String path) {
        try {
            return namespace.stat(path);
        } catch (IOException e) {
            throw errno(e, "stat " + path);
        }
    }

    /** A remembered file changed or vanished: drop its blocks, make the kernel look it up again. */
    private void sourceChanged(String path, SourceEntry before, SourceEntry after) {
        FileVersion keep = after != null && after.kind() == SourceEntry.Kind.FILE ? after.version() : null;
        LOG.info("{} {} in the source", path, after == null ? "was deleted" : "changed");
        cache.dropPath(path, keep);
        FuseMount<NodeKey> kernel = mount;
        if (kernel != null) {
            int slash = path.lastIndexOf('/');
            NodeKey parent = new NodeKey(slash < 0 ? "" : path.substring(0, slash), null);
            kernel.invalidateEntry(parent, path.substring(slash + 1));
        }
    }

    /** The one place source failures become errno. */
    private static FuseException errno(IOException e, String what) {
        return switch (e) {
            case InterruptedIOException interrupted -> new FuseException(Errno.EINTR);
            case NoSuchFileException missing -> new FuseException(Errno.ENOENT);
            case NotDirectoryException notDirectory -> new FuseException(Errno.ENOTDIR);
            case AccessDeniedException denied -> new FuseException(Errno.EACCES);
            default -> {
                LOG.error("{} failed in the source, answering EIO: {}", what, e.toString());
                yield new FuseException(Errno.EIO);
            }
        };
    }
}
