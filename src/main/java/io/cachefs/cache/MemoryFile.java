package io.cachefs.cache;

import io.cachefs.linux.Libc;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory-backed file holding the blocks of one file version: a memfd, or a file in a tmpfs
 * directory. It is sparse and as long as the source file, each block at its source offset, and
 * mapped once into the process; it holds memory only where blocks were written, and a punched
 * hole gives a block's pages back to the kernel.
 *
 * <p>Thread safety: {@link #slice}, {@link #punch} and {@link #fd} may run concurrently on
 * distinct ranges; {@link #close} must not race with them (the cache closes a file only once no
 * block of it is loading, pinned or being punched).
 */
final class MemoryFile implements AutoCloseable {

    /** Distinguishes store files of versions of one path, and of caches sharing a directory. */
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private final int fd;
    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private boolean closed;

    private MemoryFile(int fd, Path path, Arena arena, MemorySegment mapping) {
        this.fd = fd;
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
    }

    /**
     * Creates an empty (all-hole) memory file as long as {@code file}: a memfd if
     * {@code storeDir} is null, else a new file in that directory, deleted on close.
     */
    static MemoryFile create(FileVersion file, Path storeDir) throws IOException {
        Path path = storeDir == null ? null : storeDir.resolve(storeName(file));
        int fd = path == null ? Libc.memfdCreate("cachefs:" + file.path()) : Libc.createExclusive(path);
        Arena arena = Arena.ofShared();
        try {
            Libc.ftruncate(fd, file.size());
            // mmap refuses length 0; an empty file has no blocks to map
            MemorySegment mapping = file.size() == 0
                    ? MemorySegment.NULL : Libc.mapShared(fd, file.size(), arena);
            return new MemoryFile(fd, path, arena, mapping);
        } catch (IOException | RuntimeException e) {
            arena.close();
            closeQuietly(fd, e);
            if (path != null) {
                Files.deleteIfExists(path);
            }
            throw e;
        }
    }

    /**
     * Fails unless {@code storeDir} can hold memory files: it must be a directory on tmpfs,
     * where pages live in memory and punching a hole frees them.
     */
    static void checkStore(Path storeDir) {
        if (storeDir == null) {
            return;
        }
        if (!Files.isDirectory(storeDir)) {
            throw new IllegalArgumentException("cache store directory " + storeDir
                    + " does not exist: create it on a tmpfs, e.g. mkdir /dev/shm/cachefs");
        }
        try {
            String type = Files.getFileStore(storeDir).type();
            if (!type.equals("tmpfs")) {
                throw new IllegalArgumentException("cache store directory " + storeDir + " is on "
                        + type + ", not tmpfs: its blocks would not be held in memory");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot inspect cache store directory " + storeDir, e);
        }
    }

    int fd() {
        return fd;
    }

    /** The writable mapping of {@code [offset, offset + length)}. */
    MemorySegment slice(long offset, long length) {
        return mapping.asSlice(offset, length);
    }

    /** Gives the pages of {@code [offset, offset + length)} back; they read as zeros after. */
    void punch(long offset, long length) {
        try {
            Libc.punchHole(fd, offset, length);
        } catch (IOException e) {
            // tmpfs and memfd always support punching (checkStore ensures tmpfs), so this is a
            // bug or a foreign fd, not a condition to handle
            throw new UncheckedIOException("cannot give back cache memory", e);
        }
    }

    /** Bytes of memory the file holds now. */
    long allocatedBytes() throws IOException {
        return Libc.allocatedBytes(fd);
    }

    /** Unmaps, closes and (in a store directory) deletes the file: all its memory is freed. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        try {
            Libc.close(fd);
            if (path != null) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close cache memory file", e);
        }
    }

    private static String storeName(FileVersion file) {
        String path = file.path();
        String base = path.substring(path.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
        // keep names well under NAME_MAX (255) and unique without encoding the whole path
        if (base.length() > 100) {
            base = base.substring(base.length() - 100);
        }
        return ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet() + "-" + base;
    }

    private static void closeQuietly(int fd, Exception cause) {
        try {
            Libc.close(fd);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}
