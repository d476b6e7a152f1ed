package io.cachefs.fuse;

import java.util.HashMap;
import java.util.Map;

/**
 * The kernel's view of the filesystem's nodes: which node id stands for which filesystem key, and
 * how many references (lookups) the kernel holds on each.
 *
 * <p>Node ids are numbers of a {@link SlotTable}, recycled with a new generation each time, so
 * finding a node for a request (every READ does) is an array load with no allocation and no
 * lock. Changes (lookups, forgets) take this table's lock; the kernel cannot name a node before
 * the reply that introduced it was written, and the node is published before that.
 */
final class NodeTable<K> {

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

    private final SlotTable<Node<K>> slots = new SlotTable<>((int) FuseAbi.ROOT_ID + 1);
    private final Map<K, Node<K>> byKey = new HashMap<>();

    NodeTable(K root) {
        Node<K> rootNode = new Node<>(root, FuseAbi.ROOT_ID, 0);
        rootNode.lookups = Long.MAX_VALUE / 2; // the kernel never forgets the root
        slots.put((int) FuseAbi.ROOT_ID, rootNode);
        byKey.put(root, rootNode);
    }

    /** The node with this kernel id, or null if the id is unknown (a kernel bug or a stale id). */
    Node<K> get(long id) {
        return id <= 0 ? null : slots.get(id);
    }

    /** Counts one more kernel reference to {@code key}, giving it a node id if it has none. */
    synchronized Node<K> remember(K key) {
        Node<K> node = byKey.get(key);
        if (node == null) {
            int slot = slots.add((id, generation) -> new Node<>(key, id, generation));
            node = slots.get(slot);
            byKey.put(key, node);
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
        slots.remove(id);
        return node.key;
    }

    synchronized int size() {
        return byKey.size();
    }
}
