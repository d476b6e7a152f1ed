package io.cachefs.cache;

import io.cachefs.source.FileVersion;

/** A {@link PinnedFile}: one pin on every block of one version, and on its memory file. */
final class FilePin implements PinnedFile {

    final BlockCache cache;
    final CachedVersion version;
    private final int fd;
    /** Guarded by the cache lock, so that closing twice unpins once. */
    boolean closed;

    FilePin(BlockCache cache, CachedVersion version, int fd) {
        this.cache = cache;
        this.version = version;
        this.fd = fd;
    }

    @Override
    public FileVersion file() {
        return version.file;
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public void close() {
        cache.unpin(this);
    }
}
