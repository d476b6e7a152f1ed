package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The CRC32C of blocks this member knows first-hand: those it read from the source itself, and
 * those it fetched from a peer and verified against a digest it already had. It tells the
 * trackers these with what it holds ({@link Announcer}), and checks a block it held once, was
 * evicted and now fetches again, against them: its own word beats a tracker's.
 *
 * <p>Kept after the blocks are evicted, by version, least recently used first out once
 * {@link #MAX_BLOCKS} digests are kept: 4 bytes a block, so 16 MiB at most. Only versions this
 * member loaded come here, so their sizes are real, not a peer's say. Thread-safe: every method
 * holds the object's lock, for microseconds.
 */
final class KnownDigests {

    /** 4 Mi digests (16 GiB of blocks at the smallest block size, 16 TiB at 4 MiB) in 16 MiB of heap. */
    static final int MAX_BLOCKS = 4 << 20;

    /** One version's digests: a CRC32C per block, valid where {@code known} is set. */
    private record Version(int[] crcs, BitSet known) {}

    private final int maxBlocks;
    private int kept;
    private final Map<FileVersion, Version> versions = new LinkedHashMap<>(64, 0.75f, true);

    KnownDigests() {
        this(MAX_BLOCKS);
    }

    KnownDigests(int maxBlocks) {
        this.maxBlocks = maxBlocks;
    }

    /** Block {@code index} of {@code file} has this CRC32C (cut in blocks of {@code blockSize}). */
    synchronized void record(FileVersion file, int blockSize, long index, int crc) {
        long blocks = Math.ceilDiv(file.size(), blockSize);
        if (index < 0 || index >= blocks || blocks > maxBlocks) {
            return; // not a block of it, or a file too large to remember: it is checked as if never seen
        }
        Version version = versions.get(file);
        if (version == null) {
            version = new Version(new int[(int) blocks], new BitSet());
            versions.put(file, version);
            kept += (int) blocks;
            evictBeyondBound(file);
        }
        version.crcs()[(int) index] = crc;
        version.known().set((int) index);
    }

    /** Block {@code index}'s CRC32C, if this member knows it first-hand. */
    synchronized OptionalInt of(FileVersion file, long index) {
        Version version = versions.get(file);
        if (version == null || index < 0 || index >= version.crcs().length || !version.known().get((int) index)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(version.crcs()[(int) index]);
    }

    /** The digests known of {@code blocks} of {@code file}: what this member vouches for to a tracker. */
    synchronized BlockDigests of(FileVersion file, BitSet blocks) {
        Version version = versions.get(file);
        if (version == null) {
            return BlockDigests.NONE;
        }
        Map<Integer, Integer> byIndex = new HashMap<>();
        for (int i = blocks.nextSetBit(0); i >= 0 && i < version.crcs().length; i = blocks.nextSetBit(i + 1)) {
            if (version.known().get(i)) {
                byIndex.put(i, version.crcs()[i]);
            }
        }
        return BlockDigests.of(byIndex);
    }

    private void evictBeyondBound(FileVersion keep) {
        var eldest = versions.entrySet().iterator();
        while (kept > maxBlocks && eldest.hasNext()) {
            Map.Entry<FileVersion, Version> entry = eldest.next();
            if (!entry.getKey().equals(keep)) {
                kept -= entry.getValue().crcs().length;
                eldest.remove();
            }
        }
    }
}
