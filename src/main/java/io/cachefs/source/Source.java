package io.cachefs.source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * A read-only view of the slow source directory that CacheFS mirrors. Implementations never write
 * to the source. Every path is relative to the source root, '/'-separated, without a leading
 * slash; {@code ""} names the root itself. A path that is malformed or that would lead outside the
 * root fails with a {@link java.nio.file.FileSystemException} (not found or access denied), so the
 * FUSE boundary can turn it into ENOENT or EACCES like any other missing file.
 */
public interface Source {

    /**
     * Attributes of the entry at {@code path} ("" = root), without following a final symlink.
     *
     * @return empty if nothing exists at that path
     */
    Optional<SourceEntry> stat(String path) throws IOException;

    /**
     * The entries of directory {@code dir} (not "." or ".."), sorted by name.
     *
     * @throws java.nio.file.NoSuchFileException if {@code dir} does not exist
     * @throws java.nio.file.NotDirectoryException if {@code dir} is not a directory
     */
    List<SourceEntry> list(String dir) throws IOException;

    /** The target of the symlink at {@code path}, as stored in the link (not resolved). */
    String readlink(String path) throws IOException;

    /**
     * Opens {@code file} for any number of reads: one handle that a loader keeps for a whole
     * stream of blocks, because on an object-storage mount every open is a new request (and a
     * new connection) and on NFS a round trip. Checks that the source file is this version now.
     *
     * @throws StaleVersionException if the source file is no longer {@code file}
     * @throws java.nio.file.NoSuchFileException if it is gone
     */
    SourceFile open(FileVersion file) throws IOException;

    /** Opens, reads one range and closes: for callers that need one range, such as tests. */
    default void read(FileVersion file, long offset, MemorySegment dst) throws IOException {
        SourceFile.checkRange(file, offset, dst.byteSize());
        try (SourceFile handle = open(file)) {
            handle.read(offset, dst);
        }
    }

    /**
     * How many streams a whole-file load of this source starts with, before the cache's tuner
     * measures whether more or fewer pay: 1 for a mount (an object-storage mount pays per open
     * and per seek); more for a store that caps each connection and rewards parallel reads.
     */
    default int firstStreams() {
        return 1;
    }
}
