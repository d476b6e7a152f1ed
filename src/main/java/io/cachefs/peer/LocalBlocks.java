package io.cachefs.peer;

import io.cachefs.cache.BlockLease;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.util.BitSet;
import java.util.List;

/**
 * What the {@link BlockServer} needs of the local instance: its block size, and its blocks.
 * Implemented by the daemon over its block cache and source. Called from virtual threads,
 * never from an event loop, so both methods may block.
 *
 * <p>The server turns what {@link #load} throws into a status: {@link
 * java.nio.file.NoSuchFileException} and {@link io.cachefs.source.StaleVersionException}
 * (no such file, or not at this version) 404, {@link java.nio.file.AccessDeniedException}
 * 403, any other {@link IOException} 503, anything else 500.
 */
public interface LocalBlocks {

    /** The block size this instance cuts files with; requests with another get 409. */
    int blockSize();

    /**
     * The block, pinned, if it is in memory now and {@code file} is the file's current
     * version; otherwise null. Never loads.
     */
    BlockLease inMemory(FileVersion file, long index) throws IOException;

    /**
     * The block, pinned, loading it if needed: the caller thinks this instance owns it, so the
     * load happens once for the whole group. Refuses a version that is not current.
     */
    BlockLease load(FileVersion file, long index) throws IOException;

    /** The blocks of {@code file} this instance holds now, to tell trackers; quick, never loads. */
    default BitSet held(FileVersion file) {
        return new BitSet();
    }

    /** The versions this instance holds blocks of now. */
    default List<FileVersion> heldVersions() {
        return List.of();
    }
}
