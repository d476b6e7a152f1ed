package io.cachefs.cache;

import java.lang.foreign.MemorySegment;

/** A {@link BlockLease}: one pin on one block. */
final class Lease implements BlockLease {

    final BlockCache cache;
    final Block block;
    /** Guarded by the cache lock, so that closing twice unpins once. */
    boolean closed;

    Lease(BlockCache cache, Block block) {
        this.cache = cache;
        this.block = block;
    }

    @Override
    public int crc32c() {
        long known = block.crc32c;
        if (known < 0) {
            known = Integer.toUnsignedLong(BlockLease.crc32cOf(block.bytes));
            block.crc32c = known; // racing threads compute the same value
        }
        return (int) known;
    }

    @Override
    public BlockOrigin origin() {
        return block.origin;
    }

    @Override
    public long deliverFresh(long bytes) {
        return block.deliverFresh(bytes);
    }

    @Override
    public MemorySegment bytes() {
        return block.bytes;
    }

    @Override
    public void close() {
        cache.unpin(this);
    }
}
