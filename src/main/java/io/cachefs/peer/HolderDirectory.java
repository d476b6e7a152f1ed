package io.cachefs.peer;

import io.cachefs.source.FileVersion;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * What this member knows as a tracker: for each file version, which members hold which of its
 * blocks, from their announcements and from polls, and the CRC32C of its blocks as the members
 * that know them first-hand said ({@link TrackedDigests}: the first word per block, none once
 * disputed). Digests outlive the entries of the members that told them: a version's bytes do
 * not change. Members announce to the version's trackers
 * (the top ranks of the version's key, {@link Tracker}) whenever what they hold changes, and
 * again every {@link Announcer#REFRESH} in full, so an entry not refreshed for
 * {@link #EXPIRY} belongs to a member that left or lost its view of the tracker, and is dropped.
 *
 * <p>Bounded: the least recently used versions past {@link #MAX_VERSIONS} are forgotten (a poll
 * finds them again). Thread-safe: every method holds the object's lock, for microseconds.
 */
final class HolderDirectory {

    /** Several announcement refreshes: a member that missed one or two is not forgotten. */
    static final long EXPIRY_NANOS = 4 * Announcer.REFRESH_NANOS;
    /** Versions tracked at once; a model store rarely has more files being read. */
    static final int MAX_VERSIONS = 4096;

    private record Entry(BitSet blocks, long updatedNanos) {}

    /** One version's holders and digests, and when the group was last polled for it (0: never). */
    private static final class Record {
        final Map<PeerAddress, Entry> holders = new HashMap<>();
        final TrackedDigests digests;
        long polledNanos;

        Record(FileVersion file) {
            digests = new TrackedDigests(file);
        }
    }

    private final LongSupplier nanoClock;
    private final Map<FileVersion, Record> records = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FileVersion, Record> eldest) {
            return size() > MAX_VERSIONS;
        }
    };

    HolderDirectory(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** {@code member} now holds exactly {@code blocks} of {@code file} (none if empty). */
    synchronized void record(PeerAddress member, FileVersion file, BitSet blocks) {
        Record record = records.computeIfAbsent(file, Record::new);
        if (blocks.isEmpty()) {
            record.holders.remove(member);
        } else {
            record.holders.put(member, new Entry((BitSet) blocks.clone(), nanoClock.getAsLong()));
        }
    }

    /** {@code member} announced what it holds of a version, and the digests it knows of those blocks. */
    synchronized void record(PeerAddress member, Announcement announcement) {
        record(member, announcement.file(), announcement.blocks());
        told(member, announcement.file(), announcement.blockSize(), announcement.digests());
    }

    /** {@code member} knows these CRC32Cs of blocks of {@code file} first-hand (a poll's answer, or this member's own). */
    synchronized void told(PeerAddress member, FileVersion file, int blockSize, BlockDigests digests) {
        if (!digests.isEmpty()) {
            records.computeIfAbsent(file, Record::new).digests.told(member, digests,
                    Math.ceilDiv(file.size(), blockSize));
        }
    }

    /** The group was just polled for {@code file}: these are its holders. */
    synchronized void polled(FileVersion file, Map<PeerAddress, BitSet> answers) {
        Record record = records.computeIfAbsent(file, Record::new);
        long now = nanoClock.getAsLong();
        record.polledNanos = now;
        answers.forEach((member, blocks) -> {
            if (blocks.isEmpty()) {
                record.holders.remove(member);
            } else {
                record.holders.put(member, new Entry((BitSet) blocks.clone(), now));
            }
        });
    }

    /** When the group was last polled for {@code file}, or 0 if never (nor since it was forgotten). */
    synchronized long polledNanos(FileVersion file) {
        Record record = records.get(file);
        return record == null ? 0 : record.polledNanos;
    }

    /** The holders of {@code file} whose word is recent enough to trust. */
    synchronized Holdings holdings(FileVersion file) {
        Record record = records.get(file);
        if (record == null) {
            return Holdings.NONE;
        }
        long now = nanoClock.getAsLong();
        record.holders.values().removeIf(entry -> now - entry.updatedNanos() > EXPIRY_NANOS);
        Map<PeerAddress, BitSet> current = new HashMap<>();
        record.holders.forEach((member, entry) -> current.put(member, entry.blocks()));
        return new Holdings(current, record.digests.known());
    }

    /** Forgets {@code member} everywhere: it left the group. */
    synchronized void forget(PeerAddress member) {
        for (Record record : records.values()) {
            record.holders.remove(member);
        }
    }
}
