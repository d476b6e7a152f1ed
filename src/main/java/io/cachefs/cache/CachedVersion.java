package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.nio.file.Path;

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

    private final Path storeDir;
    private MemoryFile memory;

    CachedVersion(FileVersion file, long blockCount, Path storeDir) {
        this.file = file;
        this.blockCount = blockCount;
        this.storeDir = storeDir;
    }

    /** The memory file, created on first use: creating it is three system calls. */
    synchronized MemoryFile memory() throws IOException {
        if (memory == null) {
            memory = MemoryFile.create(file, storeDir);
        }
        return memory;
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

    /** Frees the memory file; only once {@link #unused()}. */
    synchronized void close() {
        if (memory != null) {
            memory.close();
        }
    }

    boolean fullyPresent() {
        return presentBlocks == blockCount;
    }
}
