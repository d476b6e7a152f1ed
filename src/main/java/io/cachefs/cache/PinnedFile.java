package io.cachefs.cache;

import io.cachefs.source.FileVersion;

/**
 * A file version whose blocks are all present, pinned until this handle closes, exposed as the
 * memory-backed file that holds them so the kernel can read it directly (FUSE passthrough).
 * Several handles may pin one file; its blocks become evictable when the last one closes.
 */
public interface PinnedFile extends AutoCloseable {

    FileVersion file();

    /**
     * The memory-backed file's descriptor: readable (and writable: do not write) at the same
     * offsets as the source file. Valid until this handle is closed; do not close it yourself.
     */
    int fd();

    /** Unpins the file's blocks; closing twice is harmless. */
    @Override
    void close();
}
