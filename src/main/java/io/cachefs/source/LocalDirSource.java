package io.cachefs.source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Source} over a directory of the local filesystem: a plain folder, or the mount point
 * of ossfs, s3fs, rclone or NFS. Thread-safe and stateless apart from the root, so any number of
 * readers may share one instance.
 *
 * <p><b>Versions.</b> A read checks the file's identity (inode, size, mtime) before it opens the
 * file and again after the last byte, and checks the open file's size: if any of them is not the
 * version asked for, or the file ends early, the read throws {@link StaleVersionException}. A
 * rewrite in place changes the mtime, a replacement by rename changes the inode, so bytes of two
 * versions are never returned as one.
 *
 * <p><b>Reads</b> go straight from positional {@link FileChannel} reads into the destination
 * segment's direct buffer view, with no copy through the heap. Each read opens its own channel:
 * correct under concurrent replacement of the file, and cheap next to the source's latency.
 */
public final class LocalDirSource implements Source {

    /** Bound on one read syscall; also keeps each buffer view under ByteBuffer's 2 GiB limit. */
    private static final long CHUNK_BYTES = 16L << 20;

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    private final SourceRoot root;

    /**
     * @throws NoSuchFileException if {@code root} does not exist
     * @throws NotDirectoryException if it is not a directory
     */
    public LocalDirSource(Path root) throws IOException {
        this.root = new SourceRoot(root);
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
        if (!Files.isDirectory(realDir, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotDirectoryException(dir);
        }
        List<SourceEntry> entries = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(realDir)) {
            for (Path child : children) {
                String name = child.getFileName().toString();
                try {
                    entries.add(entryOf(child, dir.isEmpty() ? name : dir + "/" + name));
                } catch (NoSuchFileException deletedSinceListed) {
                    // Gone between readdir and stat: it is no longer part of the listing.
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
    public void read(FileVersion file, long offset, MemorySegment dst) throws IOException {
        long length = dst.byteSize();
        if (offset < 0 || offset > file.size() || length > file.size() - offset) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") is outside "
                    + file.path() + " (" + file.size() + " bytes)");
        }
        if (length == 0) {
            return;
        }
        Path real = root.followed(file.path());
        Identity before = Identity.of(real);
        before.check(file);
        try (FileChannel channel = FileChannel.open(real, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            long openSize = channel.size();
            if (openSize != file.size()) {
                throw new StaleVersionException(file, "the open file has " + openSize + " bytes");
            }
            readFully(channel, file, offset, dst);
        }
        Identity after;
        try {
            after = Identity.of(real);
        } catch (NoSuchFileException deleted) {
            throw new StaleVersionException(file, "it was deleted during the read");
        }
        after.check(file);
        if (after.inode != before.inode) {
            throw new StaleVersionException(file, "it was replaced during the read (inode "
                    + before.inode + " -> " + after.inode + ")");
        }
    }

    private static void readFully(FileChannel channel, FileVersion file, long offset, MemorySegment dst)
            throws IOException {
        long done = 0;
        long length = dst.byteSize();
        while (done < length) {
            ByteBuffer chunk = dst.asSlice(done, Math.min(CHUNK_BYTES, length - done)).asByteBuffer();
            while (chunk.hasRemaining()) {
                int n = channel.read(chunk, offset + done);
                if (n < 0) {
                    throw new StaleVersionException(file, "it ended at byte " + (offset + done));
                }
                done += n;
            }
        }
    }

    private static SourceEntry entryOf(Path file, String path) throws IOException {
        Map<String, Object> a = Files.readAttributes(file, "unix:*", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        long size = (Long) a.get("size");
        long blocks = AllocatedBlocks.of(file).orElse(Math.ceilDiv(size, 512));
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
                blocks);
    }

    private static SourceEntry.Kind kindOf(int mode) {
        return switch (mode & S_IFMT) {
            case S_IFREG -> SourceEntry.Kind.FILE;
            case S_IFDIR -> SourceEntry.Kind.DIRECTORY;
            case S_IFLNK -> SourceEntry.Kind.SYMLINK;
            default -> SourceEntry.Kind.OTHER;
        };
    }

    private static long nanos(Object fileTime) {
        return ((FileTime) fileTime).to(TimeUnit.NANOSECONDS);
    }

    /** What identifies one version of a file on disk. */
    private record Identity(long inode, long size, long mtimeNanos, boolean regularFile) {

        static Identity of(Path real) throws IOException {
            Map<String, Object> a = Files.readAttributes(real, "unix:ino,size,lastModifiedTime,mode",
                    LinkOption.NOFOLLOW_LINKS);
            return new Identity((Long) a.get("ino"), (Long) a.get("size"), nanos(a.get("lastModifiedTime")),
                    ((Integer) a.get("mode") & S_IFMT) == S_IFREG);
        }

        void check(FileVersion file) throws StaleVersionException {
            if (!regularFile) {
                throw new StaleVersionException(file, "it is no longer a regular file");
            }
            if (size != file.size()) {
                throw new StaleVersionException(file, "size is now " + size);
            }
            if (mtimeNanos != file.mtimeNanos()) {
                throw new StaleVersionException(file, "mtime is now " + mtimeNanos + " ns");
            }
        }
    }
}
