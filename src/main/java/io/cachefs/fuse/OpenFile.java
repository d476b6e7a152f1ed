package io.cachefs.fuse;

/**
 * How one open of a file is served.
 *
 * @param handle    the filesystem's handle, given back with every read and the release; any
 *                  value (the kernel is given a handle of the layer's own, see FuseSession.KernelOpen)
 * @param backingFd a file descriptor whose bytes ARE the file's bytes, for FUSE passthrough (the
 *                  kernel then reads it directly and no read reaches the filesystem), or -1 to be
 *                  served by {@link FuseFilesystem#read read} requests. The descriptor must stay
 *                  open and unchanged until the last handle of the node is released. If the
 *                  kernel refuses passthrough, the open is served by read requests instead.
 * @param keepCache keep the kernel's page cache of the file across opens (FOPEN_KEEP_CACHE);
 *                  otherwise every open starts with an empty page cache for the file
 * @param directIo  bypass the page cache: every read(2) becomes READ requests (FOPEN_DIRECT_IO),
 *                  e.g. for a filesystem that must see every byte read. Shared and private
 *                  mappings of such a file work only if the kernel agreed to
 *                  FUSE_DIRECT_IO_ALLOW_MMAP at INIT ({@link FuseConnection#directIoMmap()});
 *                  without it mmap fails with ENODEV, so ask for direct I/O only then
 */
public record OpenFile(long handle, int backingFd, boolean keepCache, boolean directIo) {

    public static OpenFile served(long handle, boolean keepCache) {
        return new OpenFile(handle, -1, keepCache, false);
    }

    public static OpenFile passthrough(long handle, int backingFd) {
        return new OpenFile(handle, backingFd, false, false);
    }

    public static OpenFile direct(long handle) {
        return new OpenFile(handle, -1, false, true);
    }
}
