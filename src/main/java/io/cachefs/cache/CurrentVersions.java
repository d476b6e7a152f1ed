package io.cachefs.cache;

import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.util.Optional;

/**
 * What the source holds now, as a cache adopting a store directory asks it: only blocks of a
 * version the source still has are kept. The cache knows nothing of the source otherwise.
 */
@FunctionalInterface
public interface CurrentVersions {

    /**
     * The version of the regular file at {@code path} now; empty if there is none (gone, or not
     * a file).
     *
     * @throws IOException if the source does not answer (down, timed out): the cache cannot tell
     */
    Optional<FileVersion> current(String path) throws IOException;
}
