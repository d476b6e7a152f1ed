package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.source.FileVersion;
import java.util.BitSet;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A tracker's digests: the first word per block is kept, a disagreement keeps none, and they outlive holders. */
class HolderDirectoryDigestsTest {
    private static final FileVersion FILE = new FileVersion("m.bin", 4 * 4096, 1);
    private static final int BLOCK = 4096;
    private static final PeerAddress A = PeerAddress.parse("127.0.0.1:7001");
    private static final PeerAddress B = PeerAddress.parse("127.0.0.2:7001");
    private static final PeerAddress C = PeerAddress.parse("127.0.0.3:7001");

    private final AtomicLong now = new AtomicLong(1);
    private final HolderDirectory directory = new HolderDirectory(now::get);

    private static Announcement announce(Map<Integer, Integer> crcs) {
        BitSet held = new BitSet();
        crcs.keySet().forEach(held::set);
        return new Announcement(FILE, BLOCK, held, BlockDigests.of(crcs));
    }

    @Test
    void theFirstDigestToldIsHandedOutWithTheHolders() {
        directory.record(A, announce(Map.of(0, 100, 1, 101)));
        directory.record(B, announce(Map.of(1, 101, 2, 102)));
        Holdings holdings = directory.holdings(FILE);
        assertEquals(OptionalInt.of(100), holdings.digest(0));
        assertEquals(OptionalInt.of(101), holdings.digest(1), "told twice alike: no dispute");
        assertEquals(OptionalInt.of(102), holdings.digest(2));
        assertEquals(OptionalInt.empty(), holdings.digest(3));
    }

    @Test
    void aDifferentDigestForTheSameBlockDisputesItAndNeitherIsHandedOut() {
        directory.record(A, announce(Map.of(0, 100, 1, 101)));
        directory.record(B, announce(Map.of(1, 999)));
        assertEquals(OptionalInt.empty(), directory.holdings(FILE).digest(1),
                "the tracker cannot tell which one holds wrong bytes: neither may make the other fail");
        assertEquals(OptionalInt.of(100), directory.holdings(FILE).digest(0), "the undisputed block keeps its digest");
        directory.record(C, announce(Map.of(1, 101)));
        directory.record(A, announce(Map.of(1, 101)));
        assertEquals(OptionalInt.empty(), directory.holdings(FILE).digest(1), "disputed stays disputed");
    }

    @Test
    void aLiarWhoSpeaksFirstCannotMakeTheHonestFailSilently() {
        directory.record(B, announce(Map.of(2, 0))); // zeros' CRC, say, before the member that read it
        directory.told(A, FILE, BLOCK, BlockDigests.of(Map.of(2, 102))); // the reader's poll answer
        assertEquals(OptionalInt.empty(), directory.holdings(FILE).digest(2));
    }

    @Test
    void digestsOfBlocksOutsideTheVersionAreIgnored() {
        directory.told(A, FILE, BLOCK, BlockDigests.of(Map.of(4, 1, 1_000_000, 2)));
        Holdings holdings = directory.holdings(FILE);
        assertTrue(holdings.digests().isEmpty(), holdings.digests().toString());
    }

    @Test
    void digestsOutliveTheHoldersThatToldThem() {
        directory.record(A, announce(Map.of(0, 100)));
        now.addAndGet(HolderDirectory.EXPIRY_NANOS + 1);
        Holdings holdings = directory.holdings(FILE);
        assertTrue(holdings.byMember().isEmpty(), "A went quiet");
        assertEquals(OptionalInt.of(100), holdings.digest(0), "a version's bytes do not change");
        directory.record(A, new Announcement(FILE, BLOCK, new BitSet()));
        assertEquals(OptionalInt.of(100), directory.holdings(FILE).digest(0), "nor when the teller evicts them");
    }

    @Test
    void knownDigestsAreBoundedAndRememberedPastEviction() {
        KnownDigests known = new KnownDigests(8);
        FileVersion big = new FileVersion("big.bin", 6L * BLOCK, 1);
        FileVersion other = new FileVersion("other.bin", 4L * BLOCK, 1);
        known.record(big, BLOCK, 5, 55);
        assertEquals(OptionalInt.of(55), known.of(big, 5));
        known.record(other, BLOCK, 0, 1); // 6 + 4 > 8: the least recently used version goes
        assertEquals(OptionalInt.empty(), known.of(big, 5));
        assertEquals(OptionalInt.of(1), known.of(other, 0));
        known.record(other, BLOCK, 9, 1);
        assertEquals(OptionalInt.empty(), known.of(other, 9), "not a block of it");
        BitSet held = new BitSet();
        held.set(0, 4);
        assertEquals(BlockDigests.of(Map.of(0, 1)), known.of(other, held));
    }
}
