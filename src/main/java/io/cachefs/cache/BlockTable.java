package io.cachefs.cache;

import java.util.function.Consumer;

/**
 * The blocks of one file version that are in the cache, by index: an open-addressing hash
 * table with linear probing over the blocks themselves (a block knows its index), so a lookup
 * allocates nothing (no boxed keys) and the heap it takes follows the blocks held, not the file
 * size. Guarded by the cache lock.
 */
final class BlockTable {

    /** Small: most versions hold a few blocks or are read whole; the table grows by doubling. */
    private static final int INITIAL_SLOTS = 16;

    private Block[] slots = new Block[INITIAL_SLOTS];
    private int size;

    Block get(long index) {
        int mask = slots.length - 1;
        for (int i = slot(index, mask); ; i = (i + 1) & mask) {
            Block block = slots[i];
            if (block == null || block.index == index) {
                return block;
            }
        }
    }

    /** Adds {@code block}; its index must not be in the table. */
    void add(Block block) {
        if (2 * (size + 1) > slots.length) { // load factor at most 1/2 keeps probes short
            resize(slots.length * 2);
        }
        insert(slots, block);
        size++;
    }

    /** Removes {@code block} if it is the table's block for its index. */
    void remove(Block block) {
        int mask = slots.length - 1;
        int i = slot(block.index, mask);
        while (slots[i] != block) {
            if (slots[i] == null) {
                return;
            }
            i = (i + 1) & mask;
        }
        slots[i] = null;
        size--;
        // backward-shift deletion: move later blocks of the probe run into the gap, so that
        // every block stays reachable from its home slot without tombstones
        for (int gap = i, j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
            int home = slot(slots[j].index, mask);
            if (((j - home) & mask) >= ((j - gap) & mask)) {
                slots[gap] = slots[j];
                slots[j] = null;
                gap = j;
            }
        }
        if (slots.length > INITIAL_SLOTS && 8 * size < slots.length) {
            resize(slots.length / 2); // give the heap back after mass eviction
        }
    }

    int size() {
        return size;
    }

    /** Calls {@code action} for each block; the action must not add or remove blocks. */
    void forEach(Consumer<Block> action) {
        for (Block block : slots) {
            if (block != null) {
                action.accept(block);
            }
        }
    }

    private void resize(int length) {
        Block[] resized = new Block[length];
        for (Block block : slots) {
            if (block != null) {
                insert(resized, block);
            }
        }
        slots = resized;
    }

    private static void insert(Block[] slots, Block block) {
        int mask = slots.length - 1;
        int i = slot(block.index, mask);
        while (slots[i] != null) {
            i = (i + 1) & mask;
        }
        slots[i] = block;
    }

    /** Fibonacci hashing: sequential indexes (the common case) spread over the table. */
    private static int slot(long index, int mask) {
        return (int) ((index * 0x9E3779B97F4A7C15L) >>> 32) & mask;
    }
}
