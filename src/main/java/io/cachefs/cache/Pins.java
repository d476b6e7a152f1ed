package io.cachefs.cache;

import io.cachefs.cache.Reclaimer.Reclamation;

/**
 * Pins: a pinned block is out of eviction's reach. Leases pin one block while a reader copies
 * from it; a passthrough open pins every block of its file, since the kernel then reads the
 * memory file without asking; an acquirer waiting for a load holds a pin that the load's end
 * leaves in place. The last unpin decides the block's fate: back into its ledger's LRU list as
 * the most recently used (the capacity's, or the overflow's for a block loaded outside it), or
 * given back if its version was dropped. Guarded by the cache lock.
 */
final class Pins {

    private final CapacityLedger ledger;
    private final CapacityLedger overflow;
    private final Reclaimer reclaimer;
    /** Told when an overflow block becomes evictable: a load waiting for overflow room may go on. */
    private final Runnable overflowFreed;

    Pins(CapacityLedger ledger, CapacityLedger overflow, Reclaimer reclaimer, Runnable overflowFreed) {
        this.ledger = ledger;
        this.overflow = overflow;
        this.reclaimer = reclaimer;
        this.overflowFreed = overflowFreed;
    }

    void pin(Block block) {
        if (block.pins++ == 0) {
            (block.cached ? ledger : overflow).unevictable(block);
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
        if (block.version.detached) {
            reclaimer.drop(block, reclamation = reclaimer.orStart(reclamation));
        } else if (block.cached) {
            ledger.evictable(block);
        } else {
            overflow.evictable(block);
        }
        if (!block.cached) {
            overflowFreed.run();
        }
        return reclamation;
    }
}
