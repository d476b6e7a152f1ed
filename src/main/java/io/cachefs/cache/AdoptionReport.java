package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What a cache adopted from its store directory when it started ({@link BlockCache#adopt}), and
 * what it dropped and why.
 *
 * @param files the versions adopted, each with at least one block
 * @param blocks blocks adopted: their bytes verified against the index, served from memory
 * @param bytes what the adopted blocks count against the capacity
 * @param staleFiles versions the source no longer has (changed or deleted meanwhile): dropped
 * @param unverifiedFiles versions kept although the source did not answer; an open checks the
 *     source before any of their bytes is served, as for every file
 * @param corruptBlocks blocks whose bytes did not match the index's CRC32C: dropped
 * @param overCapacityBlocks blocks that did not fit the capacity (the least recently loaded): dropped
 * @param unusableFiles files that could not be adopted at all (an index unreadable, truncated in its
 *     header or checksummed wrong, a block file missing or of the wrong length, another block size)
 * @param took how long the adoption took
 */
public record AdoptionReport(List<FileVersion> files, long blocks, long bytes, int staleFiles, int unverifiedFiles,
                             long corruptBlocks, long overCapacityBlocks, int unusableFiles, Duration took) {

    public static final AdoptionReport NONE = new AdoptionReport(List.of(), 0, 0, 0, 0, 0, 0, 0, Duration.ZERO);

    public AdoptionReport {
        files = List.copyOf(files);
    }

    /** Whether the store held anything at all. */
    public boolean foundAnything() {
        return !files.isEmpty() || staleFiles + unusableFiles > 0 || corruptBlocks + overCapacityBlocks > 0;
    }

    /** One line for the log. */
    public String describe() {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "adopted %.1f MiB in %d blocks of %d %s in %.2f s",
                bytes / 1048576.0, blocks, files.size(), files.size() == 1 ? "file" : "files", took.toNanos() / 1e9));
        if (staleFiles > 0) {
            line.append("; dropped ").append(staleFiles).append(" changed or deleted in the source");
        }
        if (corruptBlocks > 0) {
            line.append("; dropped ").append(corruptBlocks).append(" blocks whose bytes did not verify");
        }
        if (overCapacityBlocks > 0) {
            line.append("; dropped ").append(overCapacityBlocks).append(" blocks beyond the capacity");
        }
        if (unusableFiles > 0) {
            line.append("; dropped ").append(unusableFiles).append(" unusable files (bad index or block file)");
        }
        if (unverifiedFiles > 0) {
            line.append("; kept ").append(unverifiedFiles)
                    .append(" the source did not answer for (checked again at open)");
        }
        return line.toString();
    }
}
