package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache starting on a store directory that a cache before it left (stopped, killed or
 * crashed) takes over its blocks, as if it had just loaded them, so a restart reads nothing
 * from the source for files that did not change.
 *
 * <p>What is kept, in this order: files whose index verifies, of this cache's block size, with
 * their block file as long as their version; versions the source still has (each path is asked
 * once; a source that does not answer is asked no more, and what it did not answer for is kept,
 * since every open checks the source before a byte is served anyway); of their recorded blocks
 * the most recently loaded that fit the capacity, each only if its bytes match the CRC32C
 * recorded for them. Everything else is given back: files deleted, slots cleared and ranges
 * punched, so the store holds exactly what the cache counts against its capacity.
 *
 * <p>{@link #run} does the slow part (reading, asking the source, checksumming) before the
 * cache is used, without its lock; {@link #install} then enters the blocks into the cache's
 * books under the lock, in the order they were loaded, so the least recently loaded go first.
 */
final class StoreAdoption {
    private static final Logger LOG = LoggerFactory.getLogger(StoreAdoption.class);

    /** A store file whose index verified, before the source and the bytes are checked. */
    private static final class Candidate {
        final StoreFiles.Names names;
        final StoreIndex.Contents contents;
        MemoryFile memory;
        boolean unusable;
        final Set<Long> kept = new HashSet<>();

        Candidate(StoreFiles.Names names, StoreIndex.Contents contents) {
            this.names = names;
            this.contents = contents;
        }
    }

    /** One block to adopt. */
    private record Adopted(Candidate from, StoreIndex.Claim claim) {}

    private enum Verdict { CURRENT, STALE, UNKNOWN }

    private final StoreFiles store;
    private final BlockLayout layout;
    private final long capacityBytes;
    private final List<Adopted> adopted = new ArrayList<>();
    private final Map<String, Optional<FileVersion>> answers = new HashMap<>();
    private boolean sourceAnswers = true;
    private int staleFiles;
    private int unverifiedFiles;
    private int unusableFiles;
    private long corruptBlocks;
    private long overCapacityBlocks;

    StoreAdoption(StoreFiles store, BlockLayout layout, long capacityBytes) {
        this.store = store;
        this.layout = layout;
        this.capacityBytes = capacityBytes;
    }

    /** Reads the store, asks the source, verifies the blocks; gives back all it does not keep. */
    AdoptionReport run(CurrentVersions source) {
        long start = System.nanoTime();
        List<Candidate> candidates = currentCandidates(readIndexes(), source);
        chooseBlocks(candidates);
        long bytes = 0;
        List<FileVersion> files = new ArrayList<>();
        for (Candidate candidate : candidates) {
            if (candidate.unusable || candidate.kept.isEmpty()) {
                drop(candidate);
            } else {
                giveBackTheRest(candidate);
                files.add(candidate.contents.file());
            }
        }
        adopted.sort(Comparator.comparingLong(block -> block.claim().sequence()));
        for (Adopted block : adopted) {
            bytes += BlockLayout.memoryBytes(layout.length(block.from().contents.file(), block.claim().index()));
        }
        return new AdoptionReport(files, adopted.size(), bytes, staleFiles, unverifiedFiles, corruptBlocks,
                overCapacityBlocks, unusableFiles, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * Enters the adopted blocks into the cache's books, the least recently loaded first, so that
     * they are the first evicted. Under the cache lock, in a cache nothing else has used yet.
     */
    void install(CachedVersions versions, CapacityLedger ledger) {
        for (Adopted adoptedBlock : adopted) {
            Candidate from = adoptedBlock.from();
            CachedVersion version = versions.live(from.contents.file());
            if (version.memoryIfCreated() == null) {
                version.adopt(from.memory);
            }
            Block block = versions.addBlock(version, adoptedBlock.claim().index(), Block.State.PRESENT);
            block.bytes = from.memory.slice(block.offset, block.length).asReadOnly();
            block.crc32c = Integer.toUnsignedLong(adoptedBlock.claim().crc());
            block.undelivered = 0; // held already: every read of it is a memory hit
            ledger.adopt(block);
            versions.presentBlocks++;
            version.presentBlocks++;
        }
    }

    /** The store's files whose index verifies, the most recently written first. */
    private List<Candidate> readIndexes() {
        List<Candidate> candidates = new ArrayList<>();
        for (StoreFiles.Names names : store.found()) {
            try {
                if (!Files.exists(names.index()) || !Files.exists(names.blocks())) {
                    throw new IOException("its " + (Files.exists(names.index()) ? "block file" : "index")
                            + " is missing");
                }
                StoreIndex.Contents contents = StoreIndex.read(names.index());
                if (contents.blockSize() != layout.blockSize()) {
                    throw new IOException("it was written with blocks of " + contents.blockSize() + " bytes, not "
                            + layout.blockSize());
                }
                store.sequenceAfter(contents.maxSequence());
                candidates.add(new Candidate(names, contents));
            } catch (IOException e) {
                LOG.info("dropping {} from the cache store: {}", names.blocks().getFileName(), e.getMessage());
                unusableFiles++;
                delete(names);
            }
        }
        candidates.sort(Comparator.comparingLong((Candidate c) -> c.contents.maxSequence()).reversed());
        return candidates;
    }

    /** Those of versions the source still has (or does not answer for); the others are deleted. */
    private List<Candidate> currentCandidates(List<Candidate> candidates, CurrentVersions source) {
        List<Candidate> current = new ArrayList<>();
        Set<FileVersion> seen = new HashSet<>();
        for (Candidate candidate : candidates) {
            FileVersion file = candidate.contents.file();
            if (!seen.add(file)) {
                // a crash while a version was being dropped and loaded again: the later file wins
                unusableFiles++;
                delete(candidate.names);
                continue;
            }
            switch (verdict(source, file)) {
                case CURRENT -> current.add(candidate);
                case UNKNOWN -> {
                    unverifiedFiles++;
                    current.add(candidate);
                }
                case STALE -> {
                    staleFiles++;
                    delete(candidate.names);
                }
            }
        }
        return current;
    }

    private Verdict verdict(CurrentVersions source, FileVersion file) {
        if (!sourceAnswers) {
            return Verdict.UNKNOWN;
        }
        Optional<FileVersion> now = answers.get(file.path());
        if (now == null) {
            try {
                now = source.current(file.path());
            } catch (IOException e) {
                // each question could wait the source timeout: ask no more
                LOG.warn("the source does not answer ({}): keeping the cache store's files unverified; every open "
                        + "checks the source before serving them", e.getMessage());
                sourceAnswers = false;
                return Verdict.UNKNOWN;
            }
            answers.put(file.path(), now);
        }
        return now.isPresent() && now.get().equals(file) ? Verdict.CURRENT : Verdict.STALE;
    }

    /**
     * Keeps the most recently loaded blocks that fit the capacity and whose bytes match their
     * CRC32C.
     */
    private void chooseBlocks(List<Candidate> candidates) {
        List<Adopted> claims = new ArrayList<>();
        for (Candidate candidate : candidates) {
            long blockCount = layout.blockCount(candidate.contents.file().size());
            for (StoreIndex.Claim claim : candidate.contents.claims()) {
                if (claim.index() < blockCount) {
                    claims.add(new Adopted(candidate, claim));
                }
            }
        }
        claims.sort(Comparator.comparingLong((Adopted block) -> block.claim().sequence()).reversed());
        long room = capacityBytes;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(layout.blockSize(), BlockLayout.PAGE_SIZE);
            for (Adopted block : claims) {
                room = choose(block, room, buffer);
            }
        }
    }

    /** Keeps {@code block} if it fits in {@code room} and verifies; returns the room left. */
    private long choose(Adopted block, long room, MemorySegment buffer) {
        Candidate from = block.from();
        FileVersion file = from.contents.file();
        long index = block.claim().index();
        int length = layout.length(file, index);
        long bytes = BlockLayout.memoryBytes(length);
        if (from.unusable) {
            return room;
        }
        if (bytes > room) {
            overCapacityBlocks++;
            return room;
        }
        if (from.memory == null) {
            try {
                from.memory = MemoryFile.adopt(from.names, from.contents, store);
            } catch (IOException e) {
                LOG.info("dropping {} from the cache store: {}", from.names.blocks().getFileName(), e.getMessage());
                from.unusable = true;
                unusableFiles++;
                return room;
            }
        }
        if (!verifies(from.memory, layout.offset(index), buffer.asSlice(0, length), block.claim().crc())) {
            corruptBlocks++;
            return room;
        }
        from.kept.add(index);
        adopted.add(block);
        return room - bytes;
    }

    /**
     * Whether the bytes at {@code offset} match {@code crc}. Read with pread rather than through
     * the mapping: the kernel copies a tmpfs file's pages at GB/s, where touching them through a
     * fresh mapping faults page by page (about 150 MB/s on a busy 2-core VM).
     */
    private static boolean verifies(MemoryFile memory, long offset, MemorySegment buffer, int crc) {
        try {
            memory.read(offset, buffer);
        } catch (IOException e) {
            return false;
        }
        return BlockLease.crc32cOf(buffer) == crc;
    }

    /** Clears the slots of the blocks not kept and punches every range of the file but theirs. */
    private void giveBackTheRest(Candidate candidate) {
        MemoryFile memory = candidate.memory;
        for (StoreIndex.Claim claim : candidate.contents.claims()) {
            if (!candidate.kept.contains(claim.index())) {
                memory.unrecord(claim.index());
            }
        }
        FileVersion file = candidate.contents.file();
        long blockCount = layout.blockCount(file.size());
        long end = Math.ceilDiv(file.size(), BlockLayout.PAGE_SIZE) * BlockLayout.PAGE_SIZE; // whole last page
        for (long index = 0; index < blockCount; ) {
            if (candidate.kept.contains(index)) {
                index++;
                continue;
            }
            long from = layout.offset(index);
            while (index < blockCount && !candidate.kept.contains(index)) {
                index++;
            }
            memory.punch(from, (index < blockCount ? layout.offset(index) : end) - from);
        }
    }

    private void drop(Candidate candidate) {
        if (candidate.memory != null) {
            candidate.memory.close(false);
        } else {
            delete(candidate.names);
        }
    }

    private static void delete(StoreFiles.Names names) {
        try {
            names.delete();
        } catch (IOException e) {
            LOG.warn("cannot delete {} from the cache store: {}", names.blocks(), e.getMessage());
        }
    }
}
