package io.cachefs.fuse;

import io.cachefs.linux.Errno;

import java.util.List;

/**
 * A read-only filesystem served through {@link FuseMount}: the operations the kernel may ask of it.
 *
 * <p>Nodes are named by the filesystem's own keys ({@code K}, e.g. a relative path) with proper
 * {@code equals}/{@code hashCode}; the layer assigns the kernel's node ids, counts the kernel's
 * references (lookups, readdirplus entries, forgets) and calls {@link #forget} once the kernel
 * holds none. Failures are {@link FuseException}s carrying an errno; any other exception is
 * logged once per operation and answered EIO. Every writing operation is answered EROFS by the
 * layer and never reaches this interface.
 *
 * <p>Methods are called from several worker threads at once, and a slow call (waiting on a slow
 * source) delays only its own request.
 */
public interface FuseFilesystem<K> {

    /** The key of the root directory (kernel node id 1). */
    K root();

    /** Called once the kernel and the layer agreed on the protocol, before any other request. */
    default void init(FuseConnection connection) {
    }

    /** Resolves {@code name} in directory {@code parent}; ENOENT if there is no such entry. */
    Entry<K> lookup(K parent, String name);

    /** The kernel holds no more references to {@code node}: its state may be dropped. */
    default void forget(K node) {
    }

    Attributes getattr(K node);

    default String readlink(K node) {
        throw new FuseException(Errno.EINVAL);
    }

    /** Opens a directory for listing; the handle comes back with readdir and releasedir. */
    default long opendir(K node) {
        return 0;
    }

    /**
     * Lists entries after {@code offset} (0 = from the start; otherwise the {@code nextOffset} of
     * the last entry the kernel received) until the listing is full or the directory ends.
     */
    void readdir(K node, long handle, long offset, DirectoryListing<K> listing);

    default void releasedir(K node, long handle) {
    }

    /** Opens a file for reading ({@code flags} as given to open(2)); says how it is served. */
    OpenFile open(K node, int flags);

    /**
     * Reads up to {@code size} bytes at {@code offset} into {@code reply}. Only called for opens
     * not served by passthrough.
     */
    void read(K node, long handle, long offset, int size, ReadReply reply);

    /** The last reference to this open handle is gone (every dup'ed descriptor closed). */
    default void release(K node, long handle) {
    }

    default FsStats statfs(K node) {
        return FsStats.EMPTY;
    }

    /** The value of extended attribute {@code name}; ENODATA when it has none. */
    default byte[] getxattr(K node, String name) {
        throw new FuseException(Errno.ENODATA);
    }

    default List<String> listxattr(K node) {
        return List.of();
    }

    /**
     * The next offset at or after {@code offset} that holds data ({@code hole == false}) or a hole.
     * ENXIO past the end. By default the kernel's own answer (all data) is used.
     */
    default long seek(K node, long handle, long offset, boolean hole) {
        throw new FuseException(Errno.ENOSYS);
    }

    /** The mount is gone (unmounted or the connection aborted); no call follows. */
    default void destroy() {
    }
}
