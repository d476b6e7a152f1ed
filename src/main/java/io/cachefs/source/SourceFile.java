package io.cachefs.source;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * One open handle on one version of a source file. Used by one thread at a time (a load stream);
 * reads may go anywhere in the file, but a stream that reads in order is what a source serves
 * fastest.
 */
public interface SourceFile extends AutoCloseable {

    FileVersion version();

    /**
     * Reads exactly {@code dst.byteSize()} bytes starting at {@code offset} into {@code dst}.
     * Never returns bytes of another version: if the file's size or mtime is not the version's
     * after the read, or it ends early, this throws and the bytes in {@code dst} are garbage.
     *
     * @throws StaleVersionException if the source file is no longer {@link #version()}
     * @throws IllegalArgumentException if the range lies outside the version's size
     */
    void read(long offset, MemorySegment dst) throws IOException;

    /** Releases the handle; never throws. */
    @Override
    void close();

    /** Rejects a range outside {@code file}: a caller's bug, not a source failure. */
    static void checkRange(FileVersion file, long offset, long length) {
        if (offset < 0 || offset > file.size() || length > file.size() - offset) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") is outside "
                    + file.path() + " (" + file.size() + " bytes)");
        }
    }
}
