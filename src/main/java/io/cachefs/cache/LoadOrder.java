package io.cachefs.cache;

import java.util.BitSet;

/**
 * A loader's say in the order a whole-file load takes its blocks, for loaders whose blocks cost
 * the same wherever they lie in the file: blocks from peers' memory. Reading such a file in file
 * order would have every new instance of a group ask the same holder for the same block at the
 * same moment; an order that follows who holds what (a swarm) spreads the work over every holder.
 * Blocks readers wait for still come first, and blocks the order does not pick are loaded in
 * file order as usual (from the source, where order matters).
 *
 * <p>Called under the cache lock: both methods must be quick and must not block.
 */
public interface LoadOrder {

    /**
     * The pending block to load next, or -1 to leave the choice to file order.
     *
     * @param pending the blocks still wanted and not yet claimed: read it, do not change it
     */
    long pick(BitSet pending);

    /** How many streams the load should run while the order picks: several blocks in flight, from several holders. */
    int streams();
}
