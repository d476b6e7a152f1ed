package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.source.FileVersion;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RendezvousTest {

    private static final int KEYS = 100_000;

    private static List<PeerAddress> members(int count) {
        List<PeerAddress> members = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            members.add(new PeerAddress("10.0.0." + i, 7070));
        }
        return members;
    }

    /** Keys shaped like real ones: a few hundred blocks of each of many model files. */
    private static String key(int i) {
        FileVersion file = new FileVersion("models/shard-" + (i / 500) + ".safetensors", 2L << 30, 1_700_000_000_000_000_000L);
        return Rendezvous.blockKey(file, i % 500);
    }

    private static PeerAddress owner(List<PeerAddress> members, String key) {
        return Rendezvous.rank(members, key).getFirst();
    }

    @Test
    void rankIsAPermutationOfTheMembers() {
        List<PeerAddress> members = members(10);

        for (int i = 0; i < 100; i++) {
            List<PeerAddress> ranked = Rendezvous.rank(members, key(i));
            assertEquals(members.size(), ranked.size());
            assertEquals(new HashSet<>(members), new HashSet<>(ranked));
        }
    }

    @Test
    void rankDoesNotDependOnTheOrderMembersAreGivenIn() {
        List<PeerAddress> members = members(10);
        List<PeerAddress> shuffled = new ArrayList<>(members);
        Collections.shuffle(shuffled, new Random(42));

        for (int i = 0; i < 1000; i++) {
            assertEquals(Rendezvous.rank(members, key(i)), Rendezvous.rank(shuffled, key(i)));
        }
    }

    @Test
    void rankIsTheSameOnEveryJvm() {
        // Pinned, so a change to the hash (which would split a mixed-version group over two
        // rings) fails here rather than in production.
        List<PeerAddress> ranked = Rendezvous.rank(members(5), "models/a.safetensors\0" + "100\0" + "7\0" + "0");

        assertEquals(0xb311a35878cfa41cL, Rendezvous.hash("10.0.0.1:7070"));
        assertEquals(List.of("10.0.0.2:7070", "10.0.0.1:7070", "10.0.0.4:7070", "10.0.0.5:7070", "10.0.0.3:7070"), ranked.stream().map(PeerAddress::toString).toList());
    }

    @Test
    void eachOfTenMembersOwnsATenthOfTheKeys() {
        List<PeerAddress> members = members(10);
        Map<PeerAddress, Integer> owned = new HashMap<>();

        for (int i = 0; i < KEYS; i++) {
            owned.merge(owner(members, key(i)), 1, Integer::sum);
        }

        for (PeerAddress member : members) {
            double share = owned.getOrDefault(member, 0) / (double) KEYS;
            assertTrue(Math.abs(share - 0.10) <= 0.015, member + " owns " + share);
        }
    }

    @Test
    void aNewMemberTakesAboutAnEleventhOfTheKeysAndOnlyKeysMoveToIt() {
        List<PeerAddress> ten = members(10);
        List<PeerAddress> eleven = members(11);
        PeerAddress newcomer = eleven.getLast();
        int moved = 0;

        for (int i = 0; i < KEYS; i++) {
            PeerAddress before = owner(ten, key(i));
            PeerAddress after = owner(eleven, key(i));
            if (!before.equals(after)) {
                assertEquals(newcomer, after, "key " + i + " moved between old members");
                moved++;
            }
        }

        double share = moved / (double) KEYS;
        assertTrue(Math.abs(share - 1.0 / 11) <= 0.015, "moved " + share);
    }

    @Test
    void aLeavingMembersKeysMoveAndNoOthers() {
        List<PeerAddress> ten = members(10);
        PeerAddress leaving = ten.get(3);
        List<PeerAddress> nine = new ArrayList<>(ten);
        nine.remove(leaving);

        for (int i = 0; i < KEYS; i++) {
            List<PeerAddress> before = Rendezvous.rank(ten, key(i));
            PeerAddress after = owner(nine, key(i));
            if (before.getFirst().equals(leaving)) {
                // The leaver's keys go to the member that was ranked second: its first fallback.
                assertEquals(before.get(1), after);
            } else {
                assertEquals(before.getFirst(), after, "key " + i + " moved though its owner stayed");
            }
        }
    }

    @Test
    void noMembersRankNothing() {
        assertEquals(List.of(), Rendezvous.rank(List.of(), "k"));
    }

    @Test
    void blockKeyNamesTheVersionAndIndexWithSeparatorsNoPathHas() {
        FileVersion file = new FileVersion("models/a.safetensors", 100, 7, "c9");

        assertEquals("models/a.safetensors\0" + "100\0" + "7\0" + "c9\0" + "3", Rendezvous.blockKey(file, 3));
    }

    @Test
    void blocksOfDifferentVersionsHaveDifferentKeys() {
        FileVersion v1 = new FileVersion("a", 100, 7);
        FileVersion v2 = new FileVersion("a", 100, 8);

        assertNotEquals(Rendezvous.blockKey(v1, 0), Rendezvous.blockKey(v2, 0));
        assertNotEquals(Rendezvous.blockKey(new FileVersion("a1", 1, 1), 1),
                Rendezvous.blockKey(new FileVersion("a", 11, 1), 1));
    }

    @Test
    void boundedOwnersGiveEachMemberItsShareWherePlainRendezvousDoesNot() {
        List<PeerAddress> members = members(8);
        int worstPlain = 0;
        for (int f = 0; f < 20; f++) {
            FileVersion file = new FileVersion("models/m" + f + ".safetensors", 256L << 20, 1_700_000_000_000_000_000L + f);

            PeerAddress[] owners = Rendezvous.boundedOwners(members, file, 64);

            Map<PeerAddress, Integer> bounded = new HashMap<>();
            Map<PeerAddress, Integer> plain = new HashMap<>();
            for (int index = 0; index < 64; index++) {
                bounded.merge(owners[index], 1, Integer::sum);
                plain.merge(Rendezvous.owner(members, Rendezvous.blockKey(file, index)), 1, Integer::sum);
            }
            assertEquals(8, bounded.size(), "every member owns blocks of " + file);
            assertTrue(bounded.values().stream().allMatch(c -> c == 8), "owned counts " + bounded);
            worstPlain = Math.max(worstPlain, Collections.max(plain.values()));
        }
        assertTrue(worstPlain >= 11, "plain rendezvous gave at most " + worstPlain + " of 64 blocks to one member");
    }

    @Test
    void boundedOwnersRoundTheShareUpAndKeepMostRendezvousOwners() {
        List<PeerAddress> members = members(3);
        FileVersion file = new FileVersion("models/a.safetensors", 1L << 30, 1);
        PeerAddress[] owners = Rendezvous.boundedOwners(members, file, 1000);
        Map<PeerAddress, Integer> owned = new HashMap<>();
        int kept = 0;
        for (int index = 0; index < 1000; index++) {
            owned.merge(owners[index], 1, Integer::sum);
            kept += owners[index].equals(Rendezvous.owner(members, Rendezvous.blockKey(file, index))) ? 1 : 0;
        }
        assertTrue(owned.values().stream().allMatch(c -> c <= 334), "owned counts " + owned);
        assertTrue(kept >= 900, "only " + kept + " of 1000 blocks kept their rendezvous owner");
    }

    @Test
    void boundedOwnersAreTheSameWhateverTheMembersOrder() {
        List<PeerAddress> members = members(7);
        FileVersion file = new FileVersion("models/b.safetensors", 1L << 30, 2);
        List<PeerAddress> shuffled = new ArrayList<>(members);
        Collections.shuffle(shuffled, new Random(5));

        assertEquals(List.of(Rendezvous.boundedOwners(members, file, 100)),
                List.of(Rendezvous.boundedOwners(shuffled, file, 100)));
        assertEquals(3, Rendezvous.boundedOwners(List.of(), file, 3).length);
    }
}
