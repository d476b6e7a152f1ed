package io.cachefs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A source directory for tests of other packages that counts every byte read from it: an
 * in-memory filesystem mounted with direct I/O, so no page cache hides a read. That count is
 * independent of anything CacheFS reports about itself.
 */
public final class SourceMount implements AutoCloseable {
    private final MemoryFilesystem fs = new MemoryFilesystem();
    private final List<Memfd> files = new ArrayList<>();
    private final Path dir;
    private final FuseMount<String> mount;

    private SourceMount(Path dir) throws IOException {
        this.dir = dir;
        fs.directIo = true;
        mount = FuseMount.mount(dir, fs, MountOptions.defaults("counting-source").withWorkers(8).withPassthrough(false));
    }

    public static SourceMount start() throws IOException {
        return new SourceMount(Files.createTempDirectory("cachefs-source"));
    }

    public Path dir() {
        return dir;
    }

    /** Adds a file of incompressible bytes at {@code path} (its directories must exist). */
    public void addRandomFile(String path, long size, long seed) throws IOException {
        Memfd memfd = Memfd.withRandomBytes(path, size, seed);
        files.add(memfd);
        fs.file(path, memfd, false, false);
    }

    public void mkdir(String path) {
        fs.mkdir(path);
    }

    /** Bytes read from this source so far, by anyone. */
    public long bytesRead() {
        return fs.bytesRead.get();
    }

    /** The SHA-256 of a file's bytes, computed from memory: not a read of the source. */
    public String sha256(String path) throws java.security.NoSuchAlgorithmException {
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        digest.update(((MemoryFilesystem.File) fs.nodes.get(path)).data().bytes.asByteBuffer());
        return java.util.HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public void close() throws Exception {
        try {
            mount.close();
        } finally {
            Shell.forceUnmount(dir);
            Files.deleteIfExists(dir);
            files.forEach(Memfd::close);
        }
    }
}
