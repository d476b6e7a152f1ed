package io.cachefs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A {@link MemoryFilesystem} mounted on a fresh directory for one test; closing leaves nothing behind. */
final class MountedFilesystem implements AutoCloseable {
    final MemoryFilesystem fs = new MemoryFilesystem();
    final Path dir;
    FuseMount<String> mount;
    private final List<Memfd> memfds = new ArrayList<>();

    MountedFilesystem() throws IOException {
        dir = Files.createTempDirectory("cachefs-fuse-test");
    }

    MountedFilesystem mount(MountOptions options) throws IOException {
        mount = FuseMount.mount(dir, fs, options);
        return this;
    }

    MountedFilesystem mount() throws IOException {
        return mount(MountOptions.defaults("memfs").withWorkers(4));
    }

    Memfd file(String path, long size, int seed, boolean passthrough, boolean keepCache) throws IOException {
        Memfd memfd = Memfd.withPattern(path, size, seed);
        memfds.add(memfd);
        fs.file(path, memfd, passthrough, keepCache);
        return memfd;
    }

    /** A large file that stays sparse: only the given ranges hold the pattern. */
    Memfd sparseFile(String path, long size, int seed, long... patternedOffsets) throws IOException {
        Memfd memfd = new Memfd(path, size);
        for (long offset : patternedOffsets) {
            memfd.fillPattern(offset, 1 << 20, seed);
        }
        memfds.add(memfd);
        fs.file(path, memfd, false, false);
        return memfd;
    }

    Path path(String relative) {
        return dir.resolve(relative);
    }

    @Override
    public void close() throws Exception {
        try {
            if (mount != null) {
                mount.close();
            }
        } finally {
            Shell.forceUnmount(dir);
            Files.deleteIfExists(dir);
            memfds.forEach(Memfd::close);
        }
    }
}
