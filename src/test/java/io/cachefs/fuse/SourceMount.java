package io.cachefs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;

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
        fs.timeout = Duration.ZERO; // attributes always fresh: a reader's fstat sees a rewrite at once
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

    /** Files opened so far, by anyone: on an object-storage mount, each is a new request. */
    public int opens() {
        return fs.opens.get();
    }

    /** Opens so far with O_DIRECT: by a reader that keeps no page cache of the file. */
    public int directOpens() {
        return fs.directOpens.get();
    }

    /** From now on, refuses opens with O_DIRECT (EINVAL), as some FUSE servers do. */
    public void refuseDirectOpens() {
        fs.refusesDirectOpens = true;
    }

    /** Reads so far that did not continue where their handle's previous read ended. */
    public int seeks() {
        return fs.seeks.get();
    }

    /**
     * Caps every open handle to {@code bytesPerSecond}, as an object store caps each connection
     * (and an object-storage mount opens one per file handle); 0 lifts the cap.
     */
    public void capEachHandle(long bytesPerSecond) {
        fs.handleBytesPerSecond = bytesPerSecond;
    }

    /** Makes reads of {@code path} hang until {@link #release}. */
    public void hang(String path) {
        fs.hangs.put(path, new CountDownLatch(1));
    }

    /** Lets hung reads of {@code path} go on. */
    public void release(String path) {
        CountDownLatch latch = fs.hangs.remove(path);
        if (latch != null) {
            latch.countDown();
        }
    }

    /** Makes lookups and stats of {@code path} hang until {@link #releaseStat}. */
    public void hangStat(String path) {
        fs.statHangs.put(path, new CountDownLatch(1));
    }

    public void releaseStat(String path) {
        CountDownLatch latch = fs.statHangs.remove(path);
        if (latch != null) {
            latch.countDown();
        }
    }

    /** Makes lookups and stats of {@code path} fail with EIO (so does a listing's stat of it). */
    public void failStat(String path) {
        fs.statFailures.add(path);
    }

    /** Makes reads of {@code path} that cover {@code offset} fail with EIO. */
    public void failReadAt(String path, long offset) {
        fs.readFailures.put(path, offset);
    }

    /** Makes reads of {@code path} end at {@code offset}, though its size says more. */
    public void endEarly(String path, long offset) {
        fs.earlyEnds.put(path, offset);
    }

    /** Removes {@code path}. */
    public void delete(String path) {
        fs.remove(path);
    }

    /**
     * Aborts the FUSE connection, as when a network mount's daemon dies: every call into the
     * directory then fails with ENOTCONN ("Transport endpoint is not connected").
     */
    public void abort() throws IOException {
        long device = (long) Files.getAttribute(dir, "unix:dev");
        MountTarget.abortConnection(device);
    }

    /** Rewrites {@code path} in place with other bytes (mtime first, then the bytes). */
    public void rewrite(String path, int seed) {
        fs.rewrite(path, seed);
    }

    /** A copy of the bytes of {@code path} now, from memory: not a read of the source. */
    public byte[] contents(String path) {
        return ((MemoryFilesystem.File) fs.nodes.get(path)).data().bytes.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Bytes read from this source so far, by anyone. */
    public long bytesRead() {
        return fs.bytesRead.get();
    }

    /** The SHA-256 of a file's bytes, computed from memory: not a read of the source. */
    public String sha256(String path) throws java.security.NoSuchAlgorithmException {
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        digest.update(((MemoryFilesystem.File) fs.nodes.get(path)).data().bytes.asByteBuffer());
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public void close() throws Exception {
        List.copyOf(fs.hangs.keySet()).forEach(this::release); // no worker of the mount stays blocked
        List.copyOf(fs.statHangs.keySet()).forEach(this::releaseStat);
        try {
            mount.close();
        } finally {
            Shell.forceUnmount(dir);
            Files.deleteIfExists(dir);
            files.forEach(Memfd::close);
        }
    }
}
