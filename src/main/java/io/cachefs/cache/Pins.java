package io.cachefs.cache;

/**
 * Pins: a pinned block is out of eviction's reach. Leases pin one block while a reader copies
 * from it; a passthrough open pins every block of its file, since the kernel then reads the
 * memory file without asking; an acquirer waiting for a load holds a pin that the load's end
 * leaves in place. The last unpin decides the block's fate: back into the LRU list as the most
 * recently used, given back if its version was dropped, or freed if it was never cached.
 * Guarded by the cache lock.
 */
final class Pins {

    private final CapacityLedger ledger;
    private final Reclaimer reclaimer;

    Pins(CapacityLedger ledger, Reclaimer reclaimer) {
        this.ledger = ledger;
        this.reclaimer = reclaimer;
    }

    void pin(Block block) {
        if (block.pins++ == 0) {
            ledger.unevictable(block);
        }
    }

    /** Removes one pin; returns {@code reclamation}, or a new one if memory must be freed. */
    Reclamation unpin(Block block, Reclamation reclamation) {
        if (--block.pins == 0 && block.state == Block.State.PRESENT) {
            return settleUnpinned(block, reclamation);
        }
        return reclamation;
    }

    /** Decides the fate of a present block nobody pins any more. */
    Reclamation settleUnpinned(Block block, Reclamation reclamation) {
        if (!block.cached) {
            reclaimer.discard(block, reclamation = reclaimer.orStart(reclamation));
        } else if (block.version.detached) {
            reclaimer.drop(block, reclamation = reclaimer.orStart(reclamation));
        } else {
            ledger.evictable(block);
        }
        return reclamation;
    }
}
