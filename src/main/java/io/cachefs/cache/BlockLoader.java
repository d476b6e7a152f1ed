package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Where the bytes of missing blocks come from: the source, or a peer group in front of it.
 *
 * <p>The cache loads a file's blocks in <em>streams</em>: each stream is a thread of its own that
 * loads one block after another, mostly in file order, through one {@link BlockReader} opened for
 * it. A reader may hold a source handle for the whole stream, which is what makes a source that
 * pays per open or per seek (an object-storage mount) fast.
 */
@FunctionalInterface
public interface BlockLoader {

    /**
     * A reader for one stream of loads of {@code file}. Opening must be cheap and must not fail:
     * a reader opens what it needs (a source handle) on its first load, so that a stream whose
     * blocks all come from peers never touches the source.
     */
    BlockReader open(FileVersion file);

    /**
     * Whether a stream may claim several consecutive blocks and load them in one go (see
     * {@link BlockReader#loadRun}). Only if loading a block never waits for another cache's load:
     * a stream holding blocks while it waits for a peer that holds blocks while it waits for this
     * one would be a cycle.
     */
    default boolean loadsRuns() {
        return false;
    }

    /** How many streams a whole-file load starts with before the tuner measures: the source's {@link io.cachefs.source.Source#firstStreams}. */
    default int firstStreams() {
        return 1;
    }

    /**
     * The order in which a whole-file load of {@code file} should take its blocks, or null for file
     * order. Called under the cache lock when the version's load is created: it must be quick.
     */
    default LoadOrder order(FileVersion file) {
        return null;
    }

    /** A loader that keeps nothing per stream: each block is loaded on its own by {@code load}. */
    static BlockLoader of(EachBlock load) {
        return file -> new BlockReader() {
            @Override
            public BlockOrigin load(BlockKey block, MemorySegment dst, boolean ownerLoad) throws IOException {
                return load.load(block, dst);
            }

            @Override
            public void close() {
            }
        };
    }

    /** Loads one block into {@code dst}; see {@link BlockReader#load}. */
    @FunctionalInterface
    interface EachBlock {
        BlockOrigin load(BlockKey block, MemorySegment dst) throws IOException;
    }
}
