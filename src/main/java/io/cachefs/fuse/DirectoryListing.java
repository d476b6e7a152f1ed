package io.cachefs.fuse;

/**
 * Where a filesystem puts the entries of one readdir request.
 *
 * <p>For READDIRPLUS the kernel takes a reference on every node listed, as if it had been looked
 * up; the layer counts those, so the filesystem lists the same way for both kinds of request.
 */
public interface DirectoryListing<K> {
    /**
     * Adds one entry.
     *
     * @param nextOffset the offset a later readdir passes to continue after this entry (non-zero)
     * @return false when the reply is full: the entry was not added and the listing should stop
     */
    boolean add(String name, Entry<K> entry, long nextOffset);
}
