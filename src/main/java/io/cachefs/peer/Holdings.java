package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Who holds which blocks of one file version, as a tracker, a poll or an announcement said:
 * an immutable map from member to block bitmap, and the CRC32C of the blocks whose digest the
 * teller knows ({@link BlockDigests}), which a fetched block must match. Its text form is the
 * body of a holders answer ({@link WireFormat}): a line per member, {@code host:port
 * base64-bitmap}, and one line {@code crc32c {digests}} if any digest is known (members that
 * predate digests skip that line, since {@code crc32c} is not a member's name).
 */
record Holdings(Map<PeerAddress, BitSet> byMember, BlockDigests digests) {

    static final Holdings NONE = new Holdings(Map.of());
    /** The first field of the digests line of a holders answer. */
    static final String DIGESTS_LINE = "crc32c";

    /** Holdings without digests. */
    Holdings(Map<PeerAddress, BitSet> byMember) {
        this(byMember, BlockDigests.NONE);
    }

    Holdings {
        java.util.Objects.requireNonNull(digests, "digests");
        Map<PeerAddress, BitSet> copy = new HashMap<>();
        byMember.forEach((member, blocks) -> {
            if (!blocks.isEmpty()) {
                copy.put(member, (BitSet) blocks.clone());
            }
        });
        byMember = Collections.unmodifiableMap(copy);
    }

    /** The members holding block {@code index}. */
    List<PeerAddress> holdersOf(long index) {
        List<PeerAddress> holders = new ArrayList<>(2);
        byMember.forEach((member, blocks) -> {
            if (blocks.get((int) index)) {
                holders.add(member);
            }
        });
        return holders;
    }

    /**
     * At most {@code max} of these holders, every holder of the whole file (of {@code blocks}
     * blocks) among them first, the rest at random: what a tracker hands out, so that its answers
     * stay small in a group of thousands (BitTorrent trackers hand out 50 peers).
     */
    Holdings sample(int max, long blocks, java.util.random.RandomGenerator random) {
        if (byMember.size() <= max) {
            return this;
        }
        List<PeerAddress> complete = new ArrayList<>();
        List<PeerAddress> partial = new ArrayList<>();
        byMember.forEach((member, held) -> (held.cardinality() >= blocks ? complete : partial).add(member));
        Collections.shuffle(complete, random);
        Collections.shuffle(partial, random);
        Map<PeerAddress, BitSet> kept = new HashMap<>();
        // a few whole copies keep the seeds reachable; partial holders are what spreads the load
        for (PeerAddress member : complete.subList(0, Math.min(complete.size(), Math.max(1, max / 4)))) {
            kept.put(member, byMember.get(member));
        }
        for (PeerAddress member : partial) {
            if (kept.size() >= max) {
                break;
            }
            kept.put(member, byMember.get(member));
        }
        for (PeerAddress member : complete) {
            if (kept.size() >= max) {
                break;
            }
            kept.putIfAbsent(member, byMember.get(member));
        }
        return new Holdings(kept, digests);
    }

    boolean isEmpty() {
        return byMember.isEmpty();
    }

    /** These holdings with {@code member}'s replaced by {@code blocks} (none if empty). */
    Holdings with(PeerAddress member, BitSet blocks) {
        Map<PeerAddress, BitSet> next = new HashMap<>(byMember);
        next.put(member, blocks);
        return new Holdings(next, digests);
    }

    /** These holdings but {@code member} without block {@code index} (it said it does not have it). */
    Holdings without(PeerAddress member, long index) {
        BitSet blocks = byMember.get(member);
        if (blocks == null || !blocks.get((int) index)) {
            return this;
        }
        BitSet fewer = (BitSet) blocks.clone();
        fewer.clear((int) index);
        return with(member, fewer);
    }

    /** Both sets of holdings; for a member in both, {@code other}'s bitmap; the digests are these. */
    Holdings merge(Holdings other) {
        Map<PeerAddress, BitSet> next = new HashMap<>(byMember);
        next.putAll(other.byMember);
        return new Holdings(next, digests);
    }

    /** The CRC32C block {@code index} must have, if the teller knows it. */
    java.util.OptionalInt digest(long index) {
        return digests.of(index);
    }

    String encode() {
        StringBuilder text = new StringBuilder();
        byMember.forEach((member, blocks) ->
                text.append(member).append(' ').append(encodeBlocks(blocks)).append('\n'));
        if (!digests.isEmpty()) {
            text.append(DIGESTS_LINE).append(' ').append(digests.encode()).append('\n');
        }
        return text.toString();
    }

    byte[] encodeBytes() {
        return encode().getBytes(UTF_8);
    }

    /**
     * Reads {@link #encode()}'s form; lines that do not parse are skipped (a holder list is
     * advice), and so is a digests line that does not parse, or a second one: no digest is then
     * known, so nothing is checked against a half-read one.
     */
    static Holdings decode(String text) {
        Map<PeerAddress, BitSet> byMember = new HashMap<>();
        BlockDigests digests = null;
        boolean digestLines = false;
        for (String line : text.split("\n")) {
            String[] fields = line.strip().split(" ");
            if (fields.length != 2) {
                continue;
            }
            try {
                if (fields[0].equals(DIGESTS_LINE)) {
                    boolean first = !digestLines;
                    digestLines = true;
                    digests = null;
                    digests = first ? BlockDigests.decode(fields[1]) : null;
                } else {
                    byMember.put(PeerAddress.parse(fields[0]), decodeBlocks(fields[1]));
                }
            } catch (IllegalArgumentException e) {
                // skip it
            }
        }
        return new Holdings(byMember, digests == null ? BlockDigests.NONE : digests);
    }

    static String encodeBlocks(BitSet blocks) {
        return Base64.getEncoder().encodeToString(blocks.toByteArray());
    }

    /** @throws IllegalArgumentException if it is not base64 */
    static BitSet decodeBlocks(String base64) {
        return BitSet.valueOf(Base64.getDecoder().decode(base64));
    }
}
