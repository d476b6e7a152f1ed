package io.cachefs.cache;

import io.cachefs.linux.Libc;
import io.cachefs.linux.Statx;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory-backed file holding the blocks of one file version: an unnamed file in the
 * daemon's own huge page tmpfs ({@link HugePageTmpfs}) or a memfd, or a block file in a tmpfs
 * store directory with its {@link StoreIndex} beside it. It is sparse and as long as the
 * source file, each block at its source offset, and mapped once into the process; it holds memory
 * only where blocks were written, and a punched hole gives a block's pages back to the kernel.
 *
 * <p>In a store directory the file outlives the process: the cache records each block in the
 * index once its bytes are complete and forgets it before punching it, and a cache started again
 * adopts the blocks the index claims ({@link StoreAdoption}). The files are deleted when the
 * version is dropped or emptied, and kept when the cache closes.
 *
 * <p>Thread safety: {@link #slice}, {@link #punch}, {@link #record}, {@link #unrecord} and
 * {@link #fd} may run concurrently on distinct blocks; {@link #close} must not race with them
 * (the cache closes a file only once no block of it is loading, pinned or being punched).
 */
final class MemoryFile implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MemoryFile.class);

    private final int fd;
    /** The files in the store directory, or null for a memfd. */
    private final StoreFiles.Names names;
    private final StoreIndex index;
    private final StoreFiles store;
    private final Arena arena;
    private final MemorySegment mapping;
    private boolean closed;
    private boolean unlinked;
    /** An index write failed once (the store is full?): said once, then the index just lags. */
    private volatile boolean indexFailed;

    private MemoryFile(int fd, StoreFiles.Names names, StoreIndex index, StoreFiles store, Arena arena,
                       MemorySegment mapping) {
        this.fd = fd;
        this.names = names;
        this.index = index;
        this.store = store;
        this.arena = arena;
        this.mapping = mapping;
    }

    /**
     * Creates an empty (all-hole) memory file as long as {@code file}: a memfd if
     * {@code store} is null, else a new block file and index in that directory.
     */
    static MemoryFile create(FileVersion file, int blockSize, long blockCount, StoreFiles store) throws IOException {
        StoreFiles.Names names = store == null ? null : store.newNames(file);
        int fd = names == null ? anonymous(file, blockSize) : Libc.createExclusive(names.blocks());
        Arena arena = Arena.ofShared();
        StoreIndex index = null;
        try {
            Libc.ftruncate(fd, file.size());
            // mmap refuses length 0; an empty file has no blocks to map
            MemorySegment mapping = file.size() == 0
                    ? MemorySegment.NULL : Libc.mapShared(fd, file.size(), arena);
            if (names != null) {
                index = StoreIndex.create(names.index(), file, blockSize, blockCount); // after the block file
            }
            return new MemoryFile(fd, names, index, store, arena, mapping);
        } catch (IOException | RuntimeException e) {
            arena.close();
            closeQuietly(fd, e);
            if (names != null) {
                names.delete();
            }
            throw e;
        }
    }

    /** An anonymous memory file: in the huge page tmpfs where it can be, else a memfd. */
    private static int anonymous(FileVersion file, int blockSize) throws IOException {
        HugePageTmpfs tmpfs = HugePageTmpfs.fits(blockSize) ? HugePageTmpfs.get() : null;
        return tmpfs != null ? tmpfs.create() : Libc.memfdCreate("cachefs:" + file.path());
    }

    /**
     * Opens the block file a cache before this one left, whose index said it holds {@code file}.
     *
     * @throws IOException if it cannot be opened or mapped, or is not as long as the file
     */
    static MemoryFile adopt(StoreFiles.Names names, StoreIndex.Contents contents, StoreFiles store)
            throws IOException {
        FileVersion file = contents.file();
        int fd = Libc.openReadWrite(names.blocks());
        Arena arena = Arena.ofShared();
        StoreIndex index = null;
        try {
            long size = Statx.of(fd).size();
            if (size != file.size()) {
                throw new IOException("block file is " + size + " bytes long, not " + file.size());
            }
            MemorySegment mapping = file.size() == 0
                    ? MemorySegment.NULL : Libc.mapShared(fd, file.size(), arena);
            index = StoreIndex.open(names.index(), contents);
            return new MemoryFile(fd, names, index, store, arena, mapping);
        } catch (IOException | RuntimeException e) {
            arena.close();
            closeQuietly(fd, e);
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

    /**
     * Copies {@code [offset, offset + dst.byteSize())} into {@code dst} with pread, without
     * touching the mapping.
     *
     * @throws IOException if the file ends first or the read fails
     */
    void read(long offset, MemorySegment dst) throws IOException {
        for (long done = 0; done < dst.byteSize(); ) {
            long n = Libc.pread(fd, dst.asSlice(done), offset + done);
            if (n == 0) {
                throw new IOException("the memory file ends at " + (offset + done));
            }
            done += n;
        }
    }

    /** Whether blocks are recorded in an index: the file is in a store directory. */
    boolean persistent() {
        return index != null;
    }

    /**
     * Records block {@code blockIndex} as complete with its bytes' CRC32C, if the file has an
     * index; only once its bytes are all written. A failed write is logged (once per file) and
     * costs only the block's adoption after a restart.
     */
    void record(long blockIndex, int crc) {
        if (index != null) {
            try {
                index.record(blockIndex, store.nextSequence(), crc);
            } catch (IOException e) {
                indexFailed(e);
            }
        }
    }

    /**
     * Forgets block {@code blockIndex} in the index, if the file has one: before its range is
     * punched. Should the write fail, the stale record still claims nothing that is served: the
     * adoption checks the block's bytes against its CRC first.
     */
    void unrecord(long blockIndex) {
        if (index != null) {
            try {
                index.clear(blockIndex);
            } catch (IOException e) {
                indexFailed(e);
            }
        }
    }

    private void indexFailed(IOException e) {
        if (!indexFailed) {
            indexFailed = true;
            LOG.warn("cannot write the index {}: its blocks may not be adopted after a restart: {}",
                    names.index(), e.getMessage());
        }
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

    /**
     * Deletes the files from the store directory now, while the mapping and descriptor stay
     * usable: the version was dropped, and a cache started after a crash must not adopt it.
     */
    synchronized void unlink() {
        if (names == null || unlinked) {
            return;
        }
        unlinked = true;
        try {
            names.delete();
        } catch (IOException e) {
            LOG.warn("cannot delete {} of a dropped version: {}", names.blocks(), e.getMessage());
        }
    }

    /** Unmaps, closes and (in a store directory) deletes the files: all its memory is freed. */
    @Override
    public void close() {
        close(false);
    }

    /**
     * Unmaps and closes; in a store directory, deletes the files unless {@code keep}: a cache
     * that closes keeps the blocks it holds for the next one to adopt.
     */
    synchronized void close(boolean keep) {
        if (closed) {
            return;
        }
        closed = true;
        arena.close();
        try {
            Libc.close(fd);
            if (index != null) {
                index.close();
            }
            if (!keep) {
                unlink();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close cache memory file", e);
        }
    }

    private static void closeQuietly(int fd, Exception cause) {
        try {
            Libc.close(fd);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}
