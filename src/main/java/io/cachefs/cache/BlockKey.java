package io.cachefs.cache;

import io.cachefs.source.FileVersion;

/**
 * One block of one file version, cut with one block size: what the cache, the loaders, the
 * peers' ring and the peer wire all name a block by.
 *
 * @param index the block's number in the file, from 0
 * @param blockSize the size every block but the last of the file has
 */
public record BlockKey(FileVersion file, long index, int blockSize) {
    public BlockKey {
        if (index < 0 || index * blockSize >= file.size()) {
            throw new IndexOutOfBoundsException("block " + index + " of " + file.path() + " (" + file.size()
                    + " bytes, blocks of " + blockSize + ")");
        }
    }

    /** The block's first byte in the file. */
    public long offset() {
        return index * blockSize;
    }

    /** The block's length: {@code blockSize}, or less for the last block of the file. */
    public int length() {
        return (int) Math.min(blockSize, file.size() - offset());
    }
}
