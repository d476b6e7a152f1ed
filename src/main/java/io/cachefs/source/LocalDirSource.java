package io.cachefs.source;

import io.cachefs.linux.Errno;
import io.cachefs.linux.ErrnoException;
import io.cachefs.linux.FileMode;
import io.cachefs.linux.Libc;
import io.cachefs.linux.Statx;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Source} over a directory of the local filesystem: a plain folder, or the mount point
 * of ossfs, s3fs, rclone or NFS. Thread-safe and stateless apart from the root, so any number of
 * readers may share one instance.
 *
 * <p><b>Handles.</b> {@link #open} opens the file once; a load stream then reads block after
 * block through that one descriptor. On an object-storage mount each open is a new GET (rclone
 * even starts it at offset 0 and throws it away on the first seek), so one open per stream,
 * read in order, is what lets such a mount run at its full speed.
 *
 * <p><b>Versions.</b> A version is size, mtime and change time (ctime: nobody can set it, so a
 * replacement that keeps size and mtime, as {@code cp -p} and {@code rsync -t} do, still shows;
 * the inode is left out because members of a peer group that mount one bucket through rclone or
 * s3fs see different inode numbers for the same object). The open checks them against the
 * version, and every read checks them again on the open descriptor ({@code fstat}) after its
 * last byte: a write in place changes the ctime and mtime, so bytes of two versions are never
 * returned as one. A file replaced by rename under an open handle keeps serving the old inode,
 * whose bytes are the old version's.
 *
 * <p><b>Reads</b> go straight from {@code pread} into the destination segment (the cache's
 * memory), with no buffer in between. The bytes then live in the cache, so the source's own page
 * cache of them would be a second copy: a FUSE mount (s3fs, rclone, goofys: anything whose type is
 * {@code fuse.*}) is read with {@code O_DIRECT}, so its server's reply lands in the cache's memory
 * with no page cache in between (one copy and one set of fresh pages fewer: an mmap loader over
 * s3fs ran 1.09x faster, paired); other filesystems, whose O_DIRECT wants aligned lengths that a
 * file's tail does not have, are read through their page cache and the range is dropped after
 * the read.
 */
public final class LocalDirSource implements Source {
    private static final Logger LOG = LoggerFactory.getLogger(LocalDirSource.class);

    /** Bound on one read syscall, so that a huge range is read (and can be abandoned) in steps. */
    private static final long CHUNK_BYTES = 16L << 20;

    private final SourceRoot root;
    /**
     * Whether files are opened with O_DIRECT: the root is on a FUSE mount (see the class comment)
     * whose server has not refused it. A refusal holds for the mount: later opens do not ask again,
     * since on an object-storage mount each open is a request.
     */
    private volatile boolean direct;

    /**
     * @throws NoSuchFileException if {@code root} does not exist
     * @throws NotDirectoryException if it is not a directory
     */
    public LocalDirSource(Path root) throws IOException {
        this.root = new SourceRoot(root);
        String type = Files.getFileStore(this.root.realRoot()).type();
        this.direct = type.equals("fuse") || type.startsWith("fuse.");
        if (direct) {
            LOG.info("{} is a FUSE mount ({}): reading it with O_DIRECT", this.root.realRoot(), type);
        }
    }

    /** The source directory, with symlinks resolved. */
    public Path root() {
        return root.realRoot();
    }

    @Override
    public Optional<SourceEntry> stat(String path) throws IOException {
        SourceRoot.checkRelative(path); // a malformed path is an error, not a missing file
        try {
            return Optional.of(entryOf(root.unfollowed(path), path));
        } catch (NoSuchFileException | NotDirectoryException missing) {
            return Optional.empty();
        }
    }

    @Override
    public List<SourceEntry> list(String dir) throws IOException {
        Path realDir = root.followed(dir);
        SourceRoot.requireDirectory(realDir, dir);
        List<SourceEntry> entries = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(realDir)) {
            for (Path child : children) {
                String name = child.getFileName().toString();
                String path = dir.isEmpty() ? name : dir + "/" + name;
                try {
                    entries.add(entryOf(child, path));
                } catch (NoSuchFileException deletedSinceListed) {
                    // Gone between readdir and stat: it is no longer part of the listing.
                } catch (IOException unreadable) {
                    // One entry the source cannot stat must not hide its whole directory.
                    LOG.warn("listing {}: leaving out {}, which the source cannot stat: {}",
                            dir.isEmpty() ? "/" : dir, path, unreadable.toString());
                }
            }
        }
        entries.sort(Comparator.comparing(SourceEntry::name));
        return entries;
    }

    @Override
    public String readlink(String path) throws IOException {
        return Files.readSymbolicLink(root.unfollowed(path)).toString();
    }

    @Override
    public SourceFile open(FileVersion file) throws IOException {
        Path real = root.followed(file.path());
        int fd;
        boolean directOpen = direct;
        try {
            fd = directOpen ? openDirect(real) : -1;
            if (fd < 0) {
                directOpen = false;
                fd = Libc.openReadOnly(real);
            }
        } catch (ErrnoException e) {
            if (e.errno() == Errno.ENOENT) {
                throw new NoSuchFileException(file.path(), null, "deleted before it could be opened");
            }
            if (e.errno() == Errno.ELOOP) {
                throw new StaleVersionException(file, "it was replaced by a symlink");
            }
            throw e;
        }
        try {
            check(file, Statx.of(fd), "at open");
            return new LocalFile(file, fd, directOpen);
        } catch (IOException | RuntimeException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Opens {@code real} with O_DIRECT; -1 if the mount refuses it (EINVAL), which then holds for
     * the mount and is said once.
     */
    private int openDirect(Path real) throws IOException {
        try {
            return Libc.openReadOnly(real, true);
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            if (direct) {
                direct = false;
                LOG.info("{} refuses O_DIRECT: reading it through its page cache", root.realRoot());
            }
            return -1;
        }
    }

    /** One open descriptor of one version. */
    private static final class LocalFile implements SourceFile {
        private final FileVersion file;
        private final int fd;
        /** Opened with O_DIRECT: there is no page cache of it to drop. */
        private final boolean direct;
        private boolean closed;

        LocalFile(FileVersion file, int fd, boolean direct) {
            this.file = file;
            this.fd = fd;
            this.direct = direct;
        }

        @Override
        public FileVersion version() {
            return file;
        }

        @Override
        public void read(long offset, MemorySegment dst) throws IOException {
            long length = dst.byteSize();
            SourceFile.checkRange(file, offset, length);
            if (closed) {
                throw new IOException("the handle on " + file.path() + " is closed");
            }
            long done = 0;
            while (done < length) {
                long n = Libc.pread(fd, dst.asSlice(done, Math.min(CHUNK_BYTES, length - done)), offset + done);
                if (n == 0) {
                    throw new StaleVersionException(file, "it ended at byte " + (offset + done));
                }
                done += n;
            }
            check(file, Statx.of(fd), "after reading [" + offset + ", +" + length + ")");
            if (!direct) {
                Libc.dropPageCache(fd, offset, length);
            }
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                closeQuietly(fd);
            }
        }
    }

    private static void check(FileVersion file, Statx now, String when) throws StaleVersionException {
        if (!now.isRegularFile()) {
            throw new StaleVersionException(file, "it is no longer a regular file (" + when + ")");
        }
        if (now.size() != file.size()) {
            throw new StaleVersionException(file, "size is now " + now.size() + " (" + when + ")");
        }
        if (now.mtimeNanos() != file.mtimeNanos()) {
            throw new StaleVersionException(file, "mtime is now " + now.mtimeNanos() + " ns (" + when + ")");
        }
        if (!file.tag().isEmpty() && !FileVersion.changeTimeTag(now.ctimeNanos()).equals(file.tag())) {
            throw new StaleVersionException(file, "it was replaced or changed (change time now "
                    + now.ctimeNanos() + " ns) (" + when + ")");
        }
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (IOException e) {
            // a read-only descriptor has nothing to flush: nothing is lost
        }
    }

    private static SourceEntry entryOf(Path file, String path) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:*", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        long size = (Long) a.get("size");
        long blocks = allocatedBlocks(file, size);
        int slash = path.lastIndexOf('/');
        return new SourceEntry(
                path.substring(slash + 1),
                path,
                kindOf(mode),
                size,
                nanos(a.get("lastModifiedTime")),
                nanos(a.get("ctime")),
                nanos(a.get("lastAccessTime")),
                mode,
                (Long) a.get("ino"),
                (Integer) a.get("nlink"),
                (Integer) a.get("uid"),
                (Integer) a.get("gid"),
                blocks,
                FileVersion.changeTimeTag(nanos(a.get("ctime"))));
    }

    /** {@code st_blocks}, so that {@code du} on the mirror agrees and sparse files look sparse. */
    private static long allocatedBlocks(Path file, long size) {
        try {
            return Statx.ofLink(file).blocks();
        } catch (IOException e) {
            return Math.ceilDiv(size, 512);
        }
    }

    private static SourceEntry.Kind kindOf(int mode) {
        return switch (mode & FileMode.S_IFMT) {
            case FileMode.S_IFREG -> SourceEntry.Kind.FILE;
            case FileMode.S_IFDIR -> SourceEntry.Kind.DIRECTORY;
            case FileMode.S_IFLNK -> SourceEntry.Kind.SYMLINK;
            default -> SourceEntry.Kind.OTHER;
        };
    }

    private static long nanos(Object fileTime) {
        return ((FileTime) fileTime).to(TimeUnit.NANOSECONDS);
    }
}
