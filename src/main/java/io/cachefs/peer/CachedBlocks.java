package io.cachefs.peer;

import io.cachefs.cache.BlockCache;
import io.cachefs.cache.BlockLease;
import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import io.cachefs.source.SourceEntry;
import io.cachefs.source.StaleVersionException;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.BitSet;
import java.util.List;

/**
 * This instance's blocks as its peers see them: its block cache, loading as the group's owner.
 * A block sent to a peer counts as delivered ({@link BlockLease#deliverFresh}): each byte read
 * from the source is counted once as a source read in the whole group, by whoever got it first.
 */
public final class CachedBlocks implements LocalBlocks {
    private final BlockCache cache;
    private final Source source;

    public CachedBlocks(BlockCache cache, Source source) {
        this.cache = cache;
        this.source = source;
    }

    @Override
    public int blockSize() {
        return cache.layout().blockSize();
    }

    /** Blocks are keyed by version, so one in memory holds exactly the bytes of the version asked for. */
    @Override
    public BlockLease inMemory(FileVersion file, long index) {
        return delivered(cache.acquireIfPresent(file, index));
    }

    @Override
    public BlockLease load(FileVersion file, long index) throws IOException {
        SourceEntry now = source.stat(file.path()).orElseThrow(() -> new NoSuchFileException(file.path()));
        if (now.kind() != SourceEntry.Kind.FILE || !now.version().equals(file)) {
            throw new StaleVersionException(file, "the source has another version now");
        }
        return delivered(cache.acquireAsOwner(file, index));
    }

    @Override
    public BitSet held(FileVersion file) {
        return cache.heldBlocks(file);
    }

    @Override
    public List<FileVersion> heldVersions() {
        return cache.heldVersions();
    }

    private static BlockLease delivered(BlockLease lease) {
        if (lease != null) {
            lease.deliverFresh(lease.bytes().byteSize());
        }
        return lease;
    }
}
