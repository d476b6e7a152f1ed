package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.nio.file.LinkOption;

/**
 * A cache's store directory, as files: each version the cache holds has a block file
 * ({@code 42-model.safetensors.blocks}, the sparse memory-backed file) and its
 * {@link StoreIndex} ({@code 42-model.safetensors.index}) under one name, numbered so that
 * versions of one path never collide. Also hands out the sequence that orders every index
 * record in time. The directory is the cache's alone while it runs ({@link StoreDirectory}
 * locks it for a daemon).
 */
final class StoreFiles {

    static final String BLOCKS_SUFFIX = ".blocks";

    /** The two files of one version. */
    record Names(Path blocks, Path index) {
        /** Deletes both, the index first: a block file without an index claims nothing. */
        void delete() throws IOException {
            Files.deleteIfExists(index);
            Files.deleteIfExists(blocks);
        }
    }

    final Path dir;
    private final AtomicLong ids;
    private final AtomicLong sequence = new AtomicLong();
    /** Every version's files found at start, whole pairs or halves, for the adoption. */
    private final List<Names> found;

    StoreFiles(Path dir) throws IOException {
        this.dir = dir;
        TreeSet<String> stems = new TreeSet<>();
        long maxId = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                String stem = name.endsWith(BLOCKS_SUFFIX) ? name.substring(0, name.length() - BLOCKS_SUFFIX.length())
                        : name.endsWith(StoreIndex.SUFFIX) ? name.substring(0, name.length() - StoreIndex.SUFFIX.length())
                        : null;
                if (stem != null && Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                    stems.add(stem);
                    maxId = Math.max(maxId, id(stem));
                }
            }
        }
        this.ids = new AtomicLong(maxId);
        List<Names> names = new ArrayList<>(stems.size());
        for (String stem : stems) {
            names.add(names(stem));
        }
        this.found = List.copyOf(names);
    }

    /** Names for a new version's files, which do not exist yet. */
    Names newNames(FileVersion file) {
        String path = file.path();
        String base = path.substring(path.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
        // keep names well under NAME_MAX (255) and unique without encoding the whole path
        if (base.length() > 100) {
            base = base.substring(base.length() - 100);
        }
        return names(ids.incrementAndGet() + "-" + base);
    }

    /** The versions' files that were there when the cache started. */
    List<Names> found() {
        return found;
    }

    /** The next record's place in time: larger than every one before, in this run and the last. */
    long nextSequence() {
        return sequence.incrementAndGet();
    }

    /** Makes every sequence handed out from now on larger than {@code seen}. */
    void sequenceAfter(long seen) {
        sequence.accumulateAndGet(seen, Math::max);
    }

    private Names names(String stem) {
        return new Names(dir.resolve(stem + BLOCKS_SUFFIX), dir.resolve(stem + StoreIndex.SUFFIX));
    }

    private static long id(String stem) {
        int dash = stem.indexOf('-');
        try {
            return dash > 0 ? Long.parseLong(stem.substring(0, dash)) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
