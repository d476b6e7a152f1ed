package io.cachefs.peer;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.BitSet;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The CRC32C of some blocks of one file version: the digests a peer's answer is checked against.
 * Immutable; sorted by block index, looked up by binary search (8 bytes a block, only for the
 * blocks it names, so a hostile bitmap cannot make it allocate for blocks it does not list).
 *
 * <p>Its text form ({@link #encode}, {@link WireFormat}) is one token: {@code -} for none, else
 * {@code {base64 bitmap}:{base64 CRC32Cs}}, the bitmap as in a holder list (bit i = block i) and
 * the CRC32Cs four bytes each, big-endian, in block order, one per set bit.
 */
final class BlockDigests {

    static final BlockDigests NONE = new BlockDigests(new int[0], new int[0]);

    /** Block indices, ascending; {@code crcs[i]} is block {@code indices[i]}'s CRC32C. */
    private final int[] indices;
    private final int[] crcs;

    private BlockDigests(int[] indices, int[] crcs) {
        this.indices = indices;
        this.crcs = crcs;
    }

    /** The digests of a map from block index to CRC32C. */
    static BlockDigests of(Map<Integer, Integer> byIndex) {
        if (byIndex.isEmpty()) {
            return NONE;
        }
        SortedMap<Integer, Integer> sorted = new TreeMap<>(byIndex);
        int[] indices = new int[sorted.size()];
        int[] crcs = new int[sorted.size()];
        int i = 0;
        for (Map.Entry<Integer, Integer> entry : sorted.entrySet()) {
            if (entry.getKey() < 0) {
                throw new IllegalArgumentException("block index " + entry.getKey() + " is negative");
            }
            indices[i] = entry.getKey();
            crcs[i++] = entry.getValue();
        }
        return new BlockDigests(indices, crcs);
    }

    /** Block {@code index}'s CRC32C, if known. */
    OptionalInt of(long index) {
        if (index < 0 || index > Integer.MAX_VALUE) {
            return OptionalInt.empty();
        }
        int at = Arrays.binarySearch(indices, (int) index);
        return at < 0 ? OptionalInt.empty() : OptionalInt.of(crcs[at]);
    }

    boolean isEmpty() {
        return indices.length == 0;
    }

    int size() {
        return indices.length;
    }

    /** The blocks named. */
    BitSet blocks() {
        BitSet blocks = new BitSet();
        for (int index : indices) {
            blocks.set(index);
        }
        return blocks;
    }

    /** As a map from block index to CRC32C. */
    SortedMap<Integer, Integer> asMap() {
        SortedMap<Integer, Integer> map = new TreeMap<>();
        for (int i = 0; i < indices.length; i++) {
            map.put(indices[i], crcs[i]);
        }
        return map;
    }

    /** Only the digests of {@code blocks}. */
    BlockDigests restrictedTo(BitSet blocks) {
        SortedMap<Integer, Integer> kept = asMap();
        kept.keySet().removeIf(index -> !blocks.get(index));
        return kept.size() == indices.length ? this : of(kept);
    }

    /** The token form; see the class comment. */
    String encode() {
        if (isEmpty()) {
            return "-";
        }
        ByteBuffer bytes = ByteBuffer.allocate(4 * crcs.length);
        for (int crc : crcs) {
            bytes.putInt(crc);
        }
        return Holdings.encodeBlocks(blocks()) + ':' + Base64.getEncoder().encodeToString(bytes.array());
    }

    /**
     * Reads {@link #encode}'s form, strictly.
     *
     * @throws IllegalArgumentException if it is not exactly that: one colon, two base64 parts, and
     *     four bytes of CRC32C per block the bitmap names
     */
    static BlockDigests decode(String token) {
        if (token.equals("-")) {
            return NONE;
        }
        int colon = token.indexOf(':');
        if (colon < 0 || colon != token.lastIndexOf(':')) {
            throw new IllegalArgumentException("digests are {base64 bitmap}:{base64 CRC32Cs} or -");
        }
        BitSet blocks = Holdings.decodeBlocks(token.substring(0, colon));
        byte[] crcBytes = Base64.getDecoder().decode(token.substring(colon + 1));
        int count = blocks.cardinality();
        if (count == 0 || crcBytes.length != 4L * count) {
            throw new IllegalArgumentException("digests name " + count + " blocks but carry " + crcBytes.length
                    + " bytes of CRC32C, not " + 4L * count);
        }
        ByteBuffer crcs = ByteBuffer.wrap(crcBytes);
        int[] indices = blocks.stream().toArray();
        int[] values = new int[count];
        for (int i = 0; i < count; i++) {
            values[i] = crcs.getInt();
        }
        return new BlockDigests(indices, values);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BlockDigests that && Arrays.equals(indices, that.indices)
                && Arrays.equals(crcs, that.crcs);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(indices) + Arrays.hashCode(crcs);
    }

    @Override
    public String toString() {
        return encode();
    }
}
