package io.cachefs.fuse;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The kernel's view of the filesystem's nodes: which node id stands for which filesystem key, and
 * how many references (lookups) the kernel holds on each.
 *
 * <p>Node ids are slots in an array, recycled through a free list with a new generation each
 * time, so finding a node for a request (every READ does) is an array load with no allocation
 * and no lock. Changes (lookups, forgets) take this table's lock; the kernel cannot name a node
 * before the reply that introduced it was written, and the slot is published with release
 * semantics before that.
 */
final class NodeTable<K> {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Node[].class);

    /** One node the kernel knows. Mutable fields are guarded by the table's lock or the node's own monitor. */
    static final class Node<K> {
        final K key;
        final long id;
        final long generation;
        long lookups;
        /** Passthrough: the kernel's backing id for this node while it has passthrough opens. */
        int backingId;
        int backingOpens;
        /**
         * Opens served by READ through the page cache. The kernel refuses to mix these with
         * passthrough opens of one inode (EBUSY/ETXTBSY), so the two counts are never both non-zero.
         */
        int servedOpens;

        Node(K key, long id, long generation) {
            this.key = key;
            this.id = id;
            this.generation = generation;
        }
    }

    private volatile Node<K>[] slots;
    private long[] slotGenerations;
    private final Map<K, Node<K>> byKey = new HashMap<>();
    private int[] freeSlots = new int[64];
    private int freeCount;
    private int nextSlot = (int) FuseAbi.ROOT_ID + 1;

    @SuppressWarnings("unchecked")
    NodeTable(K root) {
        slots = (Node<K>[]) new Node[1024];
        slotGenerations = new long[1024];
        Node<K> rootNode = new Node<>(root, FuseAbi.ROOT_ID, 0);
        rootNode.lookups = Long.MAX_VALUE / 2; // the kernel never forgets the root
        slots[(int) FuseAbi.ROOT_ID] = rootNode;
        byKey.put(root, rootNode);
    }

    /** The node with this kernel id, or null if the id is unknown (a kernel bug or a stale id). */
    @SuppressWarnings("unchecked")
    Node<K> get(long id) {
        Node<K>[] current = slots;
        if (id <= 0 || id >= current.length) {
            return null;
        }
        Node<K> node = (Node<K>) SLOT.getAcquire(current, (int) id);
        return node;
    }

    /** Counts one more kernel reference to {@code key}, giving it a node id if it has none. */
    synchronized Node<K> remember(K key) {
        Node<K> node = byKey.get(key);
        if (node == null) {
            int slot = freeCount > 0 ? freeSlots[--freeCount] : nextSlot++;
            ensureCapacity(slot);
            node = new Node<>(key, slot, ++slotGenerations[slot]);
            byKey.put(key, node);
            SLOT.setRelease(slots, slot, node);
        }
        node.lookups++;
        return node;
    }

    /** The id of {@code key} if the kernel holds a reference to it, else 0. */
    synchronized long idOf(K key) {
        Node<K> node = byKey.get(key);
        return node == null ? 0 : node.id;
    }

    /**
     * Drops {@code count} kernel references to node {@code id}.
     *
     * @return the node's key when that was the last reference (the node is gone), else null
     */
    synchronized K forget(long id, long count) {
        Node<K> node = get(id);
        if (node == null || id == FuseAbi.ROOT_ID) {
            return null;
        }
        node.lookups -= count;
        if (node.lookups > 0) {
            return null;
        }
        byKey.remove(node.key);
        SLOT.setRelease(slots, (int) id, (Node<K>) null);
        if (freeCount == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, freeCount * 2);
        }
        freeSlots[freeCount++] = (int) id;
        return node.key;
    }

    synchronized int size() {
        return byKey.size();
    }

    private void ensureCapacity(int slot) {
        if (slot < slots.length) {
            return;
        }
        int newLength = Math.max(slots.length * 2, slot + 1);
        slotGenerations = Arrays.copyOf(slotGenerations, newLength);
        slots = Arrays.copyOf(slots, newLength);
    }
}
