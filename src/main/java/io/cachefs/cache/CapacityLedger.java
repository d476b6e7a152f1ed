package io.cachefs.cache;

import io.cachefs.stats.Counters;
import java.util.ArrayList;
import java.util.List;

/**
 * The capacity's books: the bytes cached blocks hold or have reserved, and which blocks may be
 * evicted, in least-recently-used order. Guarded by the cache lock.
 *
 * <p>{@code usedBytes} counts each cached block by the whole pages it takes, from the moment its
 * load reserves room until its hole has been punched, so that at every instant <em>pages really
 * held &le; usedBytes &le; capacity</em>. A reservation that evicts takes the victims' room at
 * once, although their pages go only when the cache punches them: the victims' bytes pass to the
 * new block, whose loader writes only after the punch. Pinned blocks are never in the LRU list,
 * so eviction never looks at them.
 */
final class CapacityLedger {

    private final long capacityBytes;
    private final AccessOrderList accessOrder = new AccessOrderList();
    private long usedBytes;
    /** Where evictions are counted; null for the overflow ledger, whose evictions are not the capacity's. */
    private final Counters<CacheCounter> counters;

    CapacityLedger(long capacityBytes, Counters<CacheCounter> counters) {
        this.capacityBytes = capacityBytes;
        this.counters = counters;
    }

    long capacityBytes() {
        return capacityBytes;
    }

    long usedBytes() {
        return usedBytes;
    }

    /** Bytes no eviction can free: blocks pinned, loading or being punched. */
    long unevictableBytes() {
        return usedBytes - accessOrder.bytes();
    }

    /** Whether {@code bytes} fit once every evictable block is evicted. */
    boolean canReserve(long bytes) {
        return unevictableBytes() + bytes <= capacityBytes;
    }

    /**
     * Reserves {@code bytes}, which {@link #canReserve} allows, choosing victims from the least
     * recently used end as needed. Returns the victims, out of the LRU list, for the cache to
     * release and punch before the reserved bytes are written; with {@code surplus[0]} the
     * victims' bytes beyond the reservation, to give back once they are punched.
     */
    List<Block> reserve(long bytes, long[] surplus) {
        List<Block> victims = List.of();
        long freed = 0;
        while (usedBytes - freed + bytes > capacityBytes) {
            Block victim = accessOrder.oldest();
            accessOrder.remove(victim);
            if (victims.isEmpty()) {
                victims = new ArrayList<>(2);
            }
            victims.add(victim);
            if (counters != null) {
                counters.increment(CacheCounter.EVICTIONS);
            }
            freed += victim.memoryBytes;
        }
        // The victims' pages are held until punched, so the used bytes may not fall yet: take
        // the room they leave now, and give back any surplus once the punches are done.
        usedBytes = Math.max(usedBytes, usedBytes - freed + bytes);
        surplus[0] = Math.max(0, freed - bytes);
        return victims;
    }

    /**
     * Counts a block adopted from the store directory as held and evictable, the most recently
     * used; it must fit without evicting anything.
     */
    void adopt(Block block) {
        if (usedBytes + block.memoryBytes > capacityBytes) {
            throw new IllegalStateException("an adopted block does not fit the capacity: " + block);
        }
        usedBytes += block.memoryBytes;
        accessOrder.addNewest(block);
    }

    /** Gives back {@code bytes} whose pages have been punched. */
    void freed(long bytes) {
        usedBytes -= bytes;
    }

    /** Makes an unpinned present block evictable, as the most recently used. */
    void evictable(Block block) {
        accessOrder.addNewest(block);
    }

    /** Takes a block out of eviction's reach (pinned, or being released). */
    void unevictable(Block block) {
        if (block.inAccessOrder) {
            accessOrder.remove(block);
        }
    }

    int evictableBlocks() {
        return accessOrder.size();
    }
}
