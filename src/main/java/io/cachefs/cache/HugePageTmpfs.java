package io.cachefs.cache;

import io.cachefs.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the daemon's anonymous memory files live when it may mount: a tmpfs of its own, mounted
 * with transparent huge pages ({@code huge=within_size}) and detached at once, so nobody else
 * sees it and it goes with the process. Memory files are unnamed files in it ({@code O_TMPFILE},
 * like memfds).
 *
 * <p>Why: a cold load writes into fresh pages, and a fresh page costs a fault; with 2 MiB pages
 * that is one fault where 4 KiB pages take 512. On the VMs this runs on, a first touch is a trip
 * to the hypervisor (about 30 µs a 4 KiB page: 135 MB/s for one thread, measured), so huge pages
 * make cold loads and peer fetches several times faster; anywhere, they spare page faults and
 * TLB misses, passthrough reads included. memfds cannot have them unless the machine-wide
 * {@code shmem_enabled} says so, which is not ours to change. Blocks are whole huge pages (the
 * cache uses huge pages only for block sizes that are multiples of 2 MiB), so evicting a block
 * punches whole pages, and within_size keeps a file's short tail in small pages, so the memory
 * held stays what the capacity counts.
 */
final class HugePageTmpfs {
    private static final Logger LOG = LoggerFactory.getLogger(HugePageTmpfs.class);

    /** The huge page size on x86-64 and arm64 (4 KiB base pages). */
    static final long HUGE_PAGE = 2L << 20;

    private static final Object LOCK = new Object();
    private static HugePageTmpfs instance;
    private static boolean tried;

    /** /proc/self/fd/N of the detached mount's root: names it for O_TMPFILE opens. */
    private final String root;

    private HugePageTmpfs(int rootFd) {
        this.root = "/proc/self/fd/" + rootFd;
    }

    /**
     * The process's huge page tmpfs, mounted on first need; null where it cannot be (not root,
     * no transparent huge pages), said once in the log.
     */
    static HugePageTmpfs get() {
        synchronized (LOCK) {
            if (!tried) {
                tried = true;
                // CACHEFS_JAVA_OPTS=-Dcachefs.hugePages=false: memfds, e.g. to measure what huge pages give
                instance = Boolean.parseBoolean(System.getProperty("cachefs.hugePages", "true")) ? mount() : null;
            }
            return instance;
        }
    }

    /** Whether blocks of {@code blockSize} may live here: whole huge pages, never a share of one. */
    static boolean fits(int blockSize) {
        return blockSize % HUGE_PAGE == 0;
    }

    /** A new unnamed file, empty, read-write, close-on-exec. */
    int create() throws IOException {
        return Libc.createUnnamed(root);
    }

    private static HugePageTmpfs mount() {
        Path dir = null;
        try (Arena arena = Arena.ofConfined()) {
            dir = Files.createTempDirectory("cachefs-memory-");
            MemorySegment capture = Libc.newCapture(arena);
            // size: the capacity is the cache's to keep, not the tmpfs's (its default is half of RAM)
            if (Libc.mount(capture, "cachefs-memory", dir.toString(), "tmpfs",
                    Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC, "huge=within_size,mode=0700,size=100%") != 0) {
                LOG.info("cache memory: memfds with 4 KiB pages (a tmpfs with huge pages could not be mounted: {})",
                        Libc.describe(Libc.errno(capture)));
                return null;
            }
            int rootFd;
            try {
                rootFd = Libc.openDirectory(dir);
            } finally {
                if (Libc.umount2(capture, dir.toString(), Libc.MNT_DETACH) != 0) {
                    LOG.warn("could not detach the cache's own tmpfs from {}: {}", dir,
                            Libc.describe(Libc.errno(capture)));
                }
            }
            HugePageTmpfs tmpfs = new HugePageTmpfs(rootFd);
            Libc.close(tmpfs.create()); // O_TMPFILE works here, or we fall back now rather than at a load
            LOG.info("cache memory: a tmpfs of its own with transparent huge pages");
            return tmpfs;
        } catch (IOException | RuntimeException e) {
            LOG.info("cache memory: memfds with 4 KiB pages ({})", e.getMessage());
            return null;
        } finally {
            if (dir != null) {
                try {
                    Files.deleteIfExists(dir);
                } catch (IOException e) {
                    LOG.debug("could not remove {}", dir, e);
                }
            }
        }
    }
}
