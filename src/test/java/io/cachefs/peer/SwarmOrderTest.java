package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.source.FileVersion;
import java.time.Duration;
import java.util.BitSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a new member fetches from a warm one a block at a time: only while other new members share its uplink. */
class SwarmOrderTest {
    private static final int BLOCK = 1 << 20;
    private static final FileVersion FILE = new FileVersion("models/m.bin", 8L * BLOCK, 1_000_000_000L);
    private static final PeerAddress SELF = PeerAddress.parse("10.0.0.1:7070");
    private static final PeerAddress WARM = PeerAddress.parse("10.0.0.2:7070");
    private static final PeerAddress OTHER_NEW = PeerAddress.parse("10.0.0.3:7070");

    private static Membership group(String members) {
        return new Membership(PeerSpec.parse(members), SELF, Membership.Resolver.system(), Set::of, () -> 0L,
                Duration.ZERO, warning -> { });
    }

    private static BitSet blocks(int from, int to) {
        BitSet blocks = new BitSet();
        blocks.set(from, to);
        return blocks;
    }

    @Test
    void aWarmMemberThatOtherNewMembersShareIsAskedForOneBlockAtATime() {
        try (Membership membership = group("10.0.0.1:7070,10.0.0.2:7070,10.0.0.3:7070")) {
            SwarmOrder order = new SwarmOrder(FILE, BLOCK, membership, null, new InFlightFetches());
            assertFalse(order.oneAtATimeFrom(WARM), "nothing known yet");

            order.update(new Holdings(Map.of(WARM, blocks(0, 8), OTHER_NEW, blocks(0, 1))));

            assertTrue(order.oneAtATimeFrom(WARM), "two new members share the warm member's uplink");
            assertFalse(order.oneAtATimeFrom(OTHER_NEW), "a member that is loading too is asked for several");
        }
    }

    @Test
    void aLoneNewMemberAsksAWarmOneForSeveralBlocksAtOnce() {
        try (Membership membership = group("10.0.0.1:7070,10.0.0.2:7070")) {
            SwarmOrder order = new SwarmOrder(FILE, BLOCK, membership, null, new InFlightFetches());

            order.update(new Holdings(Map.of(WARM, blocks(0, 8))));

            assertFalse(order.oneAtATimeFrom(WARM), "its uplink is this member's alone: fill the wire");
        }
    }

    @Test
    void eachNewMemberFetchesItsShareOfTheBlocksFromTheWarmOne() {
        StringBuilder group = new StringBuilder("10.0.0.1:7070,10.0.0.2:7070");
        for (int i = 3; i <= 9; i++) {
            group.append(",10.0.0.").append(i).append(":7070");
        }
        FileVersion file = new FileVersion("models/big.bin", 64L * BLOCK, 1_000_000_000L);
        try (Membership membership = group(group.toString())) {
            SwarmOrder order = new SwarmOrder(file, BLOCK, membership, null, new InFlightFetches());

            order.update(new Holdings(Map.of(WARM, blocks(0, 64))));

            Map<PeerAddress, Integer> owned = new java.util.HashMap<>();
            for (int index = 0; index < 64; index++) {
                owned.merge(order.swarmOwner(index), 1, Integer::sum);
            }
            assertFalse(owned.containsKey(WARM), "the warm member owns nothing: " + owned);
            assertEquals(8, owned.size(), "owners " + owned);
            assertTrue(owned.values().stream().allMatch(c -> c == 8), "each of 8 new members owns 8 of 64: " + owned);
        }
    }

    /**
     * A cold group: a block nobody holds is read from the source by its rendezvous owner for the
     * group (PeerLoader). Swarm owners, chosen otherwise, would have a second member read it.
     */
    @Test
    void noBlockHasASwarmOwnerWhileNoMemberHoldsTheWholeFile() {
        try (Membership membership = group("10.0.0.1:7070,10.0.0.2:7070,10.0.0.3:7070")) {
            SwarmOrder order = new SwarmOrder(FILE, BLOCK, membership, null, new InFlightFetches());

            order.update(new Holdings(Map.of(WARM, blocks(0, 7), OTHER_NEW, blocks(2, 4))));

            for (int index = 0; index < 8; index++) {
                assertNull(order.swarmOwner(index), "block " + index);
            }
            order.update(new Holdings(Map.of(WARM, blocks(0, 8))));
            assertNotNull(order.swarmOwner(7), "with a member holding it all, each block has one");
        }
    }
}
