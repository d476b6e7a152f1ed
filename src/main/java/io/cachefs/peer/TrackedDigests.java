package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tracker's digests of one file version: one CRC32C per block, the first it was told. A member
 * that later tells another CRC32C for the same block disputes it: the tracker then keeps none for
 * that block, for as long as it tracks the version, and says so in its log once per pair of
 * members, naming both. It cannot tell which of the two is right (either may be the liar, or
 * the first teller's memory may have gone bad), so it hands out neither: a liar can cost the
 * group the check of a block, never make an honest member's true bytes fail it unseen.
 *
 * <p>Not thread-safe: guarded by its {@link HolderDirectory}'s lock.
 */
final class TrackedDigests {

    private static final Logger LOG = LoggerFactory.getLogger(TrackedDigests.class);

    /** A block's digest and the member that told it first. */
    private record Told(int crc, PeerAddress by) {}

    private final FileVersion file;
    private final Map<Integer, Told> told = new HashMap<>();
    private final Set<Integer> disputed = new HashSet<>();
    /** Pairs of members whose dispute was logged, "a b" with a before b. */
    private final Set<String> logged = new HashSet<>();
    /** {@link #known()}'s last answer, until a digest is added or disputed: it goes out with every holder list. */
    private BlockDigests known = BlockDigests.NONE;

    TrackedDigests(FileVersion file) {
        this.file = file;
    }

    /** {@code member} says these are the CRC32Cs of blocks of this version (of {@code blocks} blocks). */
    void told(PeerAddress member, BlockDigests digests, long blocks) {
        digests.asMap().forEach((index, crc) -> {
            if (index >= blocks || disputed.contains(index)) {
                return; // not a block of this version, or its digest is already in doubt
            }
            Told first = told.putIfAbsent(index, new Told(crc, member));
            if (first == null) {
                known = null;
            } else if (first.crc() != crc) {
                told.remove(index);
                disputed.add(index);
                known = null;
                logDispute(index, first, new Told(crc, member));
            }
        });
    }

    /** The digests not in dispute. */
    BlockDigests known() {
        if (known == null) {
            Map<Integer, Integer> byIndex = new HashMap<>();
            told.forEach((index, first) -> byIndex.put(index, first.crc()));
            known = BlockDigests.of(byIndex);
        }
        return known;
    }

    /** True if two members told different CRC32Cs for block {@code index}. */
    boolean disputed(long index) {
        return index >= 0 && index <= Integer.MAX_VALUE && disputed.contains((int) index);
    }

    private void logDispute(int index, Told first, Told second) {
        PeerAddress a = first.by().compareTo(second.by()) <= 0 ? first.by() : second.by();
        PeerAddress b = a == first.by() ? second.by() : first.by();
        if (logged.add(a + " " + b)) {
            LOG.warn("members {} and {} disagree on the CRC32C of block {} of {} ({} and {}): one of them holds"
                    + " wrong bytes; no digest is handed out for the blocks they dispute (logged once per pair"
                    + " and version)", first.by(), second.by(), index, file.path(),
                    WireFormat.formatCrc(first.crc()), WireFormat.formatCrc(second.crc()));
        }
    }
}
