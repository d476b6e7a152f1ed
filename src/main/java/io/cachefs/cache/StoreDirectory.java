package io.cachefs.cache;

import io.cachefs.linux.Libc;
import io.cachefs.linux.Statx;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.nio.file.DirectoryNotEmptyException;

/**
 * A daemon's {@code --store-dir}: a tmpfs directory holding the store of each of its mounts'
 * caches in a subdirectory of its own, named after the mount point
 * ({@code mount-mnt_models-1f2e3d4c}), so that a daemon started again finds each mount's blocks
 * where it left them.
 *
 * <p>One daemon at a time: the directory is locked with {@code flock} on {@code cachefs.lock}
 * for as long as this object is open (the kernel lets go when the process ends, however it
 * ends), since two caches writing one store would each adopt and punch the other's blocks.
 */
public final class StoreDirectory implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StoreDirectory.class);

    static final String LOCK_FILE = "cachefs.lock";
    private static final String PARTITION_PREFIX = "mount-";

    private final Path dir;
    private final int lockFd;
    private final Set<String> claimed = new HashSet<>();
    private boolean closed;

    private StoreDirectory(Path dir, int lockFd) {
        this.dir = dir;
        this.lockFd = lockFd;
    }

    /**
     * Locks {@code dir} for this process.
     *
     * @throws IllegalArgumentException if it is missing, not on tmpfs, or cannot be locked
     * @throws IllegalStateException if another daemon holds it (the message says which, and what to do)
     */
    public static StoreDirectory open(Path dir) {
        MemoryFile.checkStore(dir);
        Path lockFile = dir.resolve(LOCK_FILE);
        int fd;
        try {
            fd = Libc.openOrCreate(lockFile);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot lock cache store directory " + dir + ": " + e.getMessage());
        }
        try {
            if (!Libc.tryLockExclusive(fd)) {
                String holder = holder(lockFile);
                throw new IllegalStateException("cache store directory " + dir + " is in use by another cachefs daemon"
                        + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                        + ": give each daemon a --store-dir of its own");
            }
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            Libc.ftruncate(fd, 0);
            try (Arena arena = Arena.ofConfined()) {
                Libc.pwrite(fd, arena.allocateFrom(ValueLayout.JAVA_BYTE, pid), 0);
            }
            return new StoreDirectory(dir, fd);
        } catch (IOException | RuntimeException e) {
            try {
                Libc.close(fd);
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalArgumentException("cannot lock cache store directory " + dir + ": " + e.getMessage());
        }
    }

    /**
     * The store directory of the cache of the mount on {@code mountPoint}, created if missing:
     * the {@code storeDir} of its {@link CacheSettings}.
     */
    public synchronized Path partition(Path mountPoint) {
        String name = partitionName(mountPoint);
        Path partition = dir.resolve(name);
        try {
            Files.createDirectories(partition);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create " + partition + " in the cache store: " + e.getMessage());
        }
        claimed.add(name);
        return partition;
    }

    /**
     * Deletes the stores of mounts this daemon no longer serves (no {@link #partition} asked for
     * them): their blocks would otherwise hold the tmpfs's memory for good.
     */
    public synchronized void removeUnclaimed() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, PARTITION_PREFIX + "*")) {
            for (Path entry : entries) {
                if (!claimed.contains(entry.getFileName().toString())
                        && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    remove(entry);
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot look for stores of former mounts in {}: {}", dir, e.getMessage());
        }
    }

    /** Deletes the block files and indexes in {@code partition}, then the directory if that empties it. */
    private static void remove(Path partition) throws IOException {
        long bytes = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(partition)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(StoreFiles.BLOCKS_SUFFIX) || name.endsWith(StoreIndex.SUFFIX)) {
                    bytes += Statx.ofLink(file).blocks() * 512;
                    Files.delete(file);
                }
            }
        }
        try {
            Files.delete(partition);
        } catch (DirectoryNotEmptyException e) {
            // files that are not ours: leave them to whoever put them there
        }
        LOG.info("removed the cache store of a mount this daemon no longer serves: {} ({} MiB)", partition,
                bytes >> 20);
    }

    /** Unlocks the directory; the stores in it stay. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Libc.close(lockFd);
        } catch (IOException e) {
            LOG.warn("cannot unlock cache store directory {}: {}", dir, e.getMessage());
        }
    }

    /** The mount point's path made a name, with a hash so that {@code /a_b} and {@code /a/b} differ. */
    static String partitionName(Path mountPoint) {
        String path = mountPoint.toAbsolutePath().normalize().toString();
        String readable = path.replaceAll("^/+", "").replaceAll("[^A-Za-z0-9._-]", "_");
        if (readable.length() > 100) {
            readable = readable.substring(readable.length() - 100);
        }
        CRC32C crc = new CRC32C();
        crc.update(path.getBytes(StandardCharsets.UTF_8));
        return PARTITION_PREFIX + (readable.isEmpty() ? "root" : readable) + "-"
                + HexFormat.of().toHexDigits((int) crc.getValue());
    }

    private static String holder(Path lockFile) {
        try {
            return Files.readString(lockFile, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
