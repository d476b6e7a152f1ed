package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import io.cachefs.source.SourceFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
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

        /** Reads {@code block} from the source into {@code dst}. */
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
