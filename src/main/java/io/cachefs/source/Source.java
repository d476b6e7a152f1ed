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
     * Reads exactly {@code dst.byteSize()} bytes of {@code file}, starting at {@code offset}, into
     * {@code dst}. Never returns bytes of another version of the file: if the file's size or
     * mtime is not the version's, before or after the read, or it ends early, this throws.
     *
     * @throws StaleVersionException if the source file is no longer {@code file}
     * @throws IllegalArgumentException if the range lies outside the version's size
     */
    void read(FileVersion file, long offset, MemorySegment dst) throws IOException;
}
