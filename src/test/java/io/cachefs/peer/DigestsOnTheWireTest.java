package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.source.FileVersion;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** Announcements and holder lists with block digests: both directions of the wire, and what is refused. */
class DigestsOnTheWireTest {
    private static final FileVersion FILE = new FileVersion("models/a b.bin", 40L << 20, 1_700_000_000_123L, "c1");
    private static final int BLOCK = 4 << 20;

    private static BitSet bits(int... indices) {
        BitSet bits = new BitSet();
        for (int i : indices) {
            bits.set(i);
        }
        return bits;
    }

    @Test
    void anAnnouncementWithDigestsParsesBackToTheSameBlocksAndCrcs() throws Exception {
        BlockDigests digests = BlockDigests.of(Map.of(0, 0xdeadbeef, 3, 7, 9, -1));
        Announcement sent = new Announcement(FILE, BLOCK, bits(0, 1, 3, 9), digests);
        Announcement got = Announcement.parse(sent.line()).getFirst();
        assertEquals(FILE, got.file());
        assertEquals(bits(0, 1, 3, 9), got.blocks());
        assertEquals(digests, got.digests());
        assertEquals(OptionalInt.of(0xdeadbeef), got.digests().of(0));
        assertEquals(OptionalInt.empty(), got.digests().of(1), "held, but no digest known first-hand");
        assertEquals(OptionalInt.of(-1), got.digests().of(9));
    }

    @Test
    void aSixFieldLineFromAMemberThatPredatesDigestsCarriesNone() throws Exception {
        String old = "a.bin 100 5 - 4096 " + Holdings.encodeBlocks(bits(0)) + "\n";
        Announcement got = Announcement.parse(old).getFirst();
        assertEquals(bits(0), got.blocks());
        assertTrue(got.digests().isEmpty());
        assertEquals(List.of(), Announcement.parse(""));
    }

    @Test
    void malformedDigestsAreRefusedNotHalfRead() {
        String head = "a.bin 100000 5 - 4096 " + Holdings.encodeBlocks(bits(0, 1)) + " ";
        String twoCrcs = java.util.Base64.getEncoder().encodeToString(new byte[8]);
        String oneCrc = java.util.Base64.getEncoder().encodeToString(new byte[4]);
        for (String digests : List.of(
                Holdings.encodeBlocks(bits(0, 1)) + ":" + oneCrc, // fewer CRCs than blocks named
                Holdings.encodeBlocks(bits(0)) + ":" + twoCrcs, // more
                Holdings.encodeBlocks(bits(5)) + ":" + oneCrc, // a digest of a block not announced as held
                ":" + oneCrc, // no blocks
                Holdings.encodeBlocks(bits(0)) + oneCrc, // no colon
                Holdings.encodeBlocks(bits(0)) + ":" + oneCrc + ":" + oneCrc, // two
                Holdings.encodeBlocks(bits(0)) + ":not*base64")) {
            assertThrows(BlockRequest.Invalid.class, () -> Announcement.parse(head + digests + "\n"), digests);
        }
        assertThrows(BlockRequest.Invalid.class, () -> Announcement.parse(head + "- extra\n"), "8 fields");
    }

    @Test
    void aHolderListCarriesItsDigestsAndOldReadersSkipTheLine() {
        PeerAddress a = PeerAddress.parse("127.0.0.1:7070");
        Holdings sent = new Holdings(Map.of(a, bits(0, 1, 2)), BlockDigests.of(Map.of(0, 11, 2, 22)));
        Holdings got = Holdings.decode(sent.encode());
        assertEquals(sent, got);
        assertEquals(OptionalInt.of(22), got.digest(2));
        assertEquals(OptionalInt.empty(), got.digest(1));
        assertTrue(sent.encode().contains("\n" + Holdings.DIGESTS_LINE + " "), sent.encode());
        // a member that predates digests reads only "host:port bitmap" lines: "crc32c" is no member name
        assertThrows(IllegalArgumentException.class, () -> PeerAddress.parse(Holdings.DIGESTS_LINE));
        // what it keeps when it holds the list: the digests go along
        assertEquals(got.digests(), got.without(a, 1).digests());
        assertEquals(got.digests(), got.sample(1, 3, new java.util.Random(1)).digests());
    }

    @Test
    void aHolderListWithABadOrRepeatedDigestsLineKnowsNoDigestButKeepsItsHolders() {
        String holders = "127.0.0.1:7070 " + Holdings.encodeBlocks(bits(0)) + "\n";
        Holdings bad = Holdings.decode(holders + "crc32c AQ==:AAAAAAAA\n");
        assertTrue(bad.digests().isEmpty(), "two CRCs for one block: not half-read");
        assertEquals(1, bad.byMember().size());
        String line = "crc32c " + BlockDigests.of(Map.of(0, 1)).encode() + "\n";
        assertTrue(Holdings.decode(holders + line + line).digests().isEmpty(), "two digests lines: none trusted");
        assertEquals(OptionalInt.of(1), Holdings.decode(holders + line).digest(0));
    }
}
