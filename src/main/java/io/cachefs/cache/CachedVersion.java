package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;

/**
 * What the cache holds of one file version: its blocks and the memory file they live in.
 * Fields other than the final ones are guarded by the cache lock, except the memory file,
 * which is created on first use by a loading thread (outside that lock, under this object's).
 */
final class CachedVersion {

    final FileVersion file;
    final long blockCount;
    final BlockTable blocks = new BlockTable();
    /** Cached blocks in state PRESENT; all present means the file can be passed through. */
    long presentBlocks;
    /** Open {@link PinnedFile} handles; they keep the memory file open. */
    int filePins;
    /**
     * No longer reachable from the cache's version map: it was dropped, or it emptied. New
     * acquires of the same version start a fresh one; this one lives until unused, then closes.
     */
    boolean detached;
    /** Unused and detached: its memory file is being closed. */
    boolean closing;
    /** The loading of its blocks, while anything is wanted or a stream runs; else null. */
    FileLoad load;

    private final int blockSize;
    /** The store directory's files, or null for a memfd. */
    private final StoreFiles store;
    private MemoryFile memory;
    /** Dropped: its files leave the store directory, now or as soon as they exist. */
    private boolean unlinked;

    CachedVersion(FileVersion file, int blockSize, long blockCount, StoreFiles store) {
        this.file = file;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.store = store;
    }

    /** The memory file, created on first use: creating it is a few system calls. */
    synchronized MemoryFile memory() throws IOException {
        if (memory == null) {
            memory = MemoryFile.create(file, blockSize, blockCount, store);
            if (unlinked) {
                memory.unlink();
            }
        }
        return memory;
    }

    /** Takes over a memory file adopted from the store directory; before any other use. */
    synchronized void adopt(MemoryFile adopted) {
        if (memory != null) {
            throw new IllegalStateException("a memory file exists already for " + file.path());
        }
        memory = adopted;
    }

    /**
     * The version was dropped (its source file changed): its files leave the store directory
     * at once, so that a cache started after a crash never adopts it, though its blocks stay
     * readable here while pinned.
     */
    synchronized void unlinkStore() {
        unlinked = true;
        if (memory != null) {
            memory.unlink();
        }
    }

    /** The memory file if it was created, else null. */
    synchronized MemoryFile memoryIfCreated() {
        return memory;
    }

    /**
     * True when nothing needs the memory file any more: no block entries, no file pins, and no
     * load that wants or loads a block (idle streams may linger; they get nothing more to do).
     */
    boolean unused() {
        return blocks.size() == 0 && filePins == 0 && (load == null || load.quiet());
    }

    /** Frees the memory file and deletes its files from the store; only once {@link #unused()}. */
    void close() {
        close(false);
    }

    /**
     * Frees the memory file; in a store directory, keeps its files for the next cache to adopt
     * if {@code keepStore} (the cache closes), else deletes them.
     */
    synchronized void close(boolean keepStore) {
        if (memory != null) {
            memory.close(keepStore);
        }
    }

    boolean fullyPresent() {
        return presentBlocks == blockCount;
    }
}
