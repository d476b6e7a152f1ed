package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import io.netty.buffer.ByteBuf;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A block this member is receiving from a peer right now, passed on to other members while it
 * arrives (cut-through): a new member that fetches a block from a warm one for the group serves
 * it to the others as its bytes land, not a whole block later. In a swarm of new members whose
 * uplinks are shared by several fetches, store and forward cost about one block's transfer time
 * per hop (seconds on a 100 Mbit/s link); cut-through costs a slice's.
 *
 * <p>The loader's thread writes the bytes into the block's place in the cache ({@link #dst}) and
 * says how far they have landed; a server thread copies what has landed into its own buffers
 * under this arrival's lock. The bytes are read in place only while the arrival is open: the
 * loader's thread is then still inside the load, so the memory is the claim's. Once the arrival
 * ended whole, the block is (about to be) published, and a server sends the rest from a pinned
 * lease instead; once it failed, a server abandons its answer (closes the connection), so a
 * receiver never gets a block that did not arrive whole and checked here.
 */
final class Arrival {

    /** What {@link #copyLanded} says when no bytes were copied. */
    static final int ENDED_WHOLE = -1;
    static final int FAILED = -2;
    static final int SILENT = -3;

    final FileVersion file;
    final long index;
    /** The member the bytes come from: it is never sent this arrival back (two members must not wait on each other). */
    final PeerAddress from;
    private final MemorySegment dst;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition moved = lock.newCondition();
    /** The sender's CRC32C of the block, once its head is in. */
    private volatile boolean headed;
    private int crc;
    private long landed;
    private boolean ended;
    private boolean whole;

    Arrival(FileVersion file, long index, PeerAddress from, MemorySegment dst) {
        this.file = file;
        this.index = index;
        this.from = from;
        this.dst = dst;
    }

    /** The sender's answer is a block with this CRC32C: from now on the arrival may be passed on. */
    void headed(int crc) {
        lock.lock();
        try {
            this.crc = crc;
            headed = true;
            moved.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The first {@code bytes} of the block are in {@link #dst}. */
    void landed(long bytes) {
        lock.lock();
        try {
            landed = bytes;
            moved.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The fetch is over: {@code whole} if the block arrived complete and checked, and is being cached. */
    void end(boolean whole) {
        lock.lock();
        try {
            ended = true;
            this.whole = whole;
            moved.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean headed() {
        return headed;
    }

    /** The sender's CRC32C; valid once {@link #headed()}. */
    int crc() {
        return crc;
    }

    long length() {
        return dst.byteSize();
    }

    /**
     * Waits until bytes past {@code sent} have landed or the arrival ended, at most {@code
     * silenceNanos}, then copies up to {@code max} landed bytes from {@code sent} into {@code to}.
     *
     * @return the bytes copied, or {@link #ENDED_WHOLE} (take the rest from the cache), {@link
     *     #FAILED} or {@link #SILENT} (nothing landed within the silence)
     */
    int copyLanded(long sent, ByteBuf to, int max, long silenceNanos) throws InterruptedException {
        lock.lock();
        try {
            long wait = silenceNanos;
            while (!ended && landed <= sent) {
                if (wait <= 0) {
                    return SILENT;
                }
                wait = moved.awaitNanos(wait);
            }
            if (ended) {
                return whole ? ENDED_WHOLE : FAILED;
            }
            int n = (int) Math.min(max, landed - sent);
            to.writeBytes(dst.asSlice(sent, n).asByteBuffer());
            return n;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "block " + index + " of " + file.path() + " arriving from " + from;
    }
}
