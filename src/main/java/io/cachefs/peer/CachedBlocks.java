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
import java.util.Set;

/**
 * This instance's blocks as its peers see them: its block cache, loading as the group's owner.
 * A block sent to a peer counts as delivered ({@link BlockLease#deliverFresh}): each byte read
 * from the source is counted once as a source read in the whole group, by whoever got it first.
 */
public final class CachedBlocks implements LocalBlocks {
    private final BlockCache cache;
    private final Source source;
    private final Arrivals arrivals;

    /** Counting the blocks {@code arrivals} has under way as held: they are passed on while they arrive. */
    CachedBlocks(BlockCache cache, Source source, Arrivals arrivals) {
        this.cache = cache;
        this.source = source;
        this.arrivals = arrivals;
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
        BitSet held = cache.heldBlocks(file);
        held.or(arrivals.headed(file));
        return held;
    }

    @Override
    public List<FileVersion> heldVersions() {
        Set<FileVersion> versions = arrivals.versions();
        if (versions.isEmpty()) {
            return cache.heldVersions();
        }
        versions.addAll(cache.heldVersions());
        return List.copyOf(versions);
    }

    private static BlockLease delivered(BlockLease lease) {
        if (lease != null) {
            lease.deliverFresh(lease.bytes().byteSize());
        }
        return lease;
    }
}
