package io.cachefs.cache;

/**
 * The eviction order: cached, present, unpinned blocks from least to most recently used, as an
 * intrusive doubly-linked list (the links live in {@link Block}), so that touching, adding and
 * evicting are O(1) and allocate nothing. Pinned blocks are not in it: they cannot be evicted,
 * and a block re-enters at the most recently used end when its last pin goes. Guarded by the
 * cache lock.
 */
final class AccessOrderList {

    private Block oldest;
    private Block newest;
    private long bytes;
    private int size;

    /** Appends {@code block} as the most recently used. */
    void addNewest(Block block) {
        assert !block.inAccessOrder : block;
        block.inAccessOrder = true;
        block.older = newest;
        block.newer = null;
        if (newest == null) {
            oldest = block;
        } else {
            newest.newer = block;
        }
        newest = block;
        bytes += block.memoryBytes;
        size++;
    }

    void remove(Block block) {
        assert block.inAccessOrder : block;
        if (block.older == null) {
            oldest = block.newer;
        } else {
            block.older.newer = block.newer;
        }
        if (block.newer == null) {
            newest = block.older;
        } else {
            block.newer.older = block.older;
        }
        block.older = null;
        block.newer = null;
        block.inAccessOrder = false;
        bytes -= block.memoryBytes;
        size--;
    }

    /** The least recently used block, or null. */
    Block oldest() {
        return oldest;
    }

    /** Bytes of all blocks in the list: what eviction could free at most. */
    long bytes() {
        return bytes;
    }

    int size() {
        return size;
    }
}
