package io.cachefs.cache;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;

/**
 * One block of one file version in the cache, in whatever state it is. Every field but the final
 * and the volatile ones ({@link #undelivered}, {@link #crc32c}: changed by readers and peers
 * outside the lock) is guarded by the cache lock; {@link #bytes} may also be set by the loading
 * thread before it publishes the block as {@link State#PRESENT} under that lock.
 */
final class Block {
    private static final VarHandle UNDELIVERED;

    static {
        try {
            UNDELIVERED = MethodHandles.lookup().findVarHandle(Block.class, "undelivered", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    enum State {
        /**
         * A reader waits for it and no stream has claimed it yet; holds no memory and no
         * reservation. (Blocks wanted by readahead alone are not in the table until claimed.)
         */
        QUEUED,
        /** Claimed by a load stream; a cached block's bytes are already counted in the used bytes. */
        LOADING,
        /** Loaded; readable through {@link #bytes}. */
        PRESENT,
        /**
         * Being given back: its range is being punched. It stays in the table meanwhile so that
         * no new load of the same block writes into the range before the punch is done.
         */
        RELEASING
    }

    final CachedVersion version;
    final long index;
    final long offset;
    final int length;
    /** What the block counts against the capacity: its pages ({@link BlockLayout#memoryBytes}). */
    final long memoryBytes;

    State state;
    /** Leases, passthrough pins and acquirers waiting for the load. */
    int pins;
    /** A peer asked this instance to load it as the group's owner: the loader must not forward it. */
    boolean ownerLoad;
    /**
     * The watchdog gave up on its load (the source did not return in time) and failed its
     * waiters; the block stays RELEASING until the stuck stream returns, so that nothing else
     * writes its range meanwhile.
     */
    boolean abandoned;
    /**
     * False for a block loaded outside the capacity because pinned blocks left no room: it lives
     * in the version's memory file like any other, but counts against the overflow ledger (see
     * {@link CacheSettings#overflowBytes}), is never passed through, and is the first to go.
     */
    boolean cached = true;
    /** Read-only view of the valid bytes, once loaded. */
    MemorySegment bytes;
    /**
     * Completes when a load or release ends; created only when someone waits, since most loads
     * and releases have no waiters.
     */
    private CompletableFuture<Void> settled;

    /**
     * Bytes of this load not yet delivered to any reader: the first delivery of each loaded byte
     * counts as coming from the loader (source or peer), every later one as from memory. Set
     * before the block is published, then only decremented by compare-and-set.
     */
    volatile long undelivered;
    /**
     * CRC32C of the bytes, once known: computed when loaded into a store directory (its index
     * records it), or when first asked (a peer serving the block); -1 = not yet.
     */
    volatile long crc32c = -1;
    /** Where the loader found the bytes; set with {@link #bytes}. */
    BlockOrigin origin = BlockOrigin.SOURCE;

    /** Neighbours in the {@link AccessOrderList}, while {@link #inAccessOrder}. */
    Block older;
    Block newer;
    boolean inAccessOrder;

    Block(CachedVersion version, long index, long offset, int length, State state) {
        this.version = version;
        this.index = index;
        this.offset = offset;
        this.length = length;
        this.memoryBytes = BlockLayout.memoryBytes(length);
        this.state = state;
    }

    /** Of {@code bytes} being delivered now, how many are this load's first delivery. */
    long deliverFresh(long bytes) {
        while (true) {
            long left = undelivered;
            if (left == 0) {
                return 0;
            }
            long fresh = Math.min(left, bytes);
            if (UNDELIVERED.compareAndSet(this, left, left - fresh)) {
                return fresh;
            }
        }
    }

    /** Something to wait on until the current load or release ends. */
    CompletableFuture<Void> settled() {
        if (settled == null) {
            settled = new CompletableFuture<>();
        }
        return settled;
    }

    /** Wakes the waiters of the load or release that just ended. */
    void settle(Throwable failure) {
        if (settled != null) {
            if (failure == null) {
                settled.complete(null);
            } else {
                settled.completeExceptionally(failure);
            }
            settled = null;
        }
    }

    @Override
    public String toString() {
        return version.file.path() + "#" + index + "[" + state + ", pins " + pins
                + (cached ? "" : ", uncached") + "]";
    }
}
