package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cache's file versions: the live {@link CachedVersion} of each version seen, which is where
 * acquires look, and the detached ones (dropped because the source file changed) that are still
 * pinned or loading, so that close() frees them too. Counts the blocks present. Guarded by the
 * cache lock.
 */
final class CachedVersions {

    private final BlockLayout layout;
    /** The store directory's files, or null for memfds. */
    private final StoreFiles store;
    private final Map<FileVersion, CachedVersion> live = new HashMap<>();
    private final Set<CachedVersion> detachedInUse = new HashSet<>();
    /** Cached blocks in state PRESENT, of every version. */
    long presentBlocks;

    CachedVersions(BlockLayout layout, StoreFiles store) {
        this.layout = layout;
        this.store = store;
    }

    /** The live version of {@code file}, or null. */
    CachedVersion find(FileVersion file) {
        return live.get(file);
    }

    /** The live version of {@code file}, created on first need. */
    CachedVersion live(FileVersion file) {
        CachedVersion version = live.get(file);
        if (version == null) {
            version = new CachedVersion(file, layout.blockSize(), layout.blockCount(file.size()), store);
            live.put(file, version);
        }
        return version;
    }

    Block addBlock(CachedVersion version, long index, Block.State state) {
        Block block = new Block(version, index, layout.offset(index), layout.length(version.file, index), state);
        version.blocks.add(block);
        return block;
    }

    /**
     * Detaches every live version of {@code path} but {@code keep}: acquires no longer find them,
     * and they are kept only while in use. Returns them.
     */
    List<CachedVersion> detachPath(String path, FileVersion keep) {
        List<CachedVersion> dropped = new ArrayList<>(1);
        for (Iterator<CachedVersion> it = live.values().iterator(); it.hasNext(); ) {
            CachedVersion version = it.next();
            if (version.file.path().equals(path) && !version.file.equals(keep)) {
                it.remove();
                version.detached = true;
                detachedInUse.add(version);
                dropped.add(version);
            }
        }
        return dropped;
    }

    /** Forgets a version that became unused: it is detached (if it was not) and tracked no more. */
    void forget(CachedVersion version) {
        if (!version.detached) {
            live.remove(version.file);
            version.detached = true;
        }
        detachedInUse.remove(version);
    }

    Collection<CachedVersion> liveVersions() {
        return live.values();
    }

    boolean isDetachedInUse(CachedVersion version) {
        return detachedInUse.contains(version);
    }

    /** Every version tracked, live and detached. */
    List<CachedVersion> all() {
        List<CachedVersion> all = new ArrayList<>(live.values());
        all.addAll(detachedInUse);
        return all;
    }

    /** Forgets every version (the cache is closing); returns them. */
    List<CachedVersion> clear() {
        List<CachedVersion> all = all();
        live.clear();
        detachedInUse.clear();
        presentBlocks = 0;
        return all;
    }
}
