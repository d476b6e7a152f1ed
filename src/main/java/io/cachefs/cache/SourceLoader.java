package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import io.cachefs.source.SourceFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * The loader of a cache without a peer group, and the last resort of one with: every block from
 * the source, through one handle per stream, opened on the stream's first read.
 */
public final class SourceLoader implements BlockLoader {

    private final Source source;

    public SourceLoader(Source source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    @Override
    public Reader open(FileVersion file) {
        return new Reader(source, file);
    }

    /** A source read never waits for anyone's load: runs are safe, and what the source serves fastest. */
    @Override
    public boolean loadsRuns() {
        return true;
    }

    @Override
    public int firstStreams() {
        return source.firstStreams();
    }

    /** Reads blocks of one version through one source handle, opened when first needed. */
    public static final class Reader implements BlockReader {
        private final Source source;
        private final FileVersion file;
        private SourceFile handle;

        Reader(Source source, FileVersion file) {
            this.source = source;
            this.file = file;
        }

        @Override
        public BlockOrigin load(BlockKey block, MemorySegment dst, boolean ownerLoad) throws IOException {
            read(block, dst);
            return BlockOrigin.SOURCE;
        }

        @Override
        public void loadRun(BlockKey first, int count, MemorySegment dst, boolean ownerLoad, BlockOrigin[] origins)
                throws IOException {
            read(first, dst); // consecutive blocks are one range of the file
            Arrays.fill(origins, 0, count, BlockOrigin.SOURCE);
        }

        /** Reads {@code dst.byteSize()} bytes from the start of {@code block} (it or a run from it) into {@code dst}. */
        public void read(BlockKey block, MemorySegment dst) throws IOException {
            if (handle == null) {
                handle = source.open(file);
            }
            try {
                handle.read(block.offset(), dst);
            } catch (IOException | RuntimeException e) {
                // a handle that failed once (a reset connection under a FUSE mount, a changed
                // file) is not trusted again: the next read opens a fresh one
                close();
                throw e;
            }
        }

        @Override
        public void close() {
            if (handle != null) {
                handle.close();
                handle = null;
            }
        }
    }
}
