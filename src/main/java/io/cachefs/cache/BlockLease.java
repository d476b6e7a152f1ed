package io.cachefs.cache;

import java.lang.foreign.MemorySegment;
import java.util.zip.CRC32C;

/**
 * A pinned block: until closed, the block is neither evicted nor its memory punched, so its
 * bytes stay valid. Close it as soon as the bytes are copied out (or written to a socket); an
 * open lease holds capacity that nothing else can use.
 */
public interface BlockLease extends AutoCloseable {

    /** Read-only view of the block's valid bytes; do not use it after {@link #close()}. */
    MemorySegment bytes();

    /**
     * Records that {@code bytes} of this block are being delivered to a reader, and returns how
     * many of them are delivered for the first time since the block was loaded: those came from
     * the loader (source or peer), the rest from memory. Readahead thus counts as a load, not a
     * memory hit, when its bytes are first read.
     */
    long deliverFresh(long bytes);

    /**
     * The CRC32C of the block's bytes, computed the first time it is asked for and remembered
     * with the block: a block served to many peers is checksummed once.
     */
    int crc32c();

    /** Where the block's bytes were loaded from. */
    BlockOrigin origin();

    /** Unpins the block; closing twice is harmless. */
    @Override
    void close();

    /** The CRC32C of {@code bytes}: what peers check a block by, and the store's index records. */
    static int crc32cOf(MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.asByteBuffer());
        return (int) crc.getValue();
    }
}
