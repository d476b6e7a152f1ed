package io.cachefs.warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.HashMap;
import java.util.Objects;

/**
 * Reads files through their cachefs mount, several at once, so that the daemon loads them; tells
 * a {@link Progress} how it goes. A file the daemon already holds whole is not read at all, which
 * is what makes a second warm-up instant.
 *
 * <p>Reading is the load: opening a large file makes the daemon load all of it in its own
 * streams, and every byte this reader has read is in memory (the count is exact, not an
 * estimate). The tiers come from the daemon's {@code user.cachefs} attribute, read while the
 * file is still open.
 */
public final class Warmup {
    /** 1 MiB reads: what the mount serves best (FUSE's largest request). */
    private static final int READ_SIZE = 1 << 20;

    /** How a file ended. */
    public enum Outcome {
        /** Held whole before the warm-up: not read. */
        CACHED_BEFORE,
        /** Read, and held whole afterwards. */
        LOADED,
        /** A read failed, or the file is not held whole afterwards ({@code error} says which). */
        FAILED,
        /** {@code --check}: not held whole, and not read. */
        NOT_CACHED
    }

    /** What became of one file. */
    public record FileResult(WarmupFile file, Outcome outcome, Tiers tiers, double seconds, String error) {
    }

    /**
     * Where the warm-up is.
     *
     * @param doneBytes bytes held: files cached before plus bytes read so far
     * @param readBytes bytes read so far (the rate is of these)
     * @param tiers where the done bytes came from
     */
    public record Snapshot(long doneBytes, long totalBytes, long readBytes, Tiers tiers, int filesDone, int filesFailed,
                           int files, long nanos) {
    }

    private final List<WarmupFile> files;
    private final int parallel;
    private final long totalBytes;
    private final long startNanos = System.nanoTime();
    private final AtomicLong readBytes = new AtomicLong();
    private final Map<WarmupFile, AtomicLong> reading = new ConcurrentHashMap<>();
    private final List<FileResult> results = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean cancelled;

    public Warmup(List<WarmupFile> files, int parallel) {
        this.files = List.copyOf(files);
        this.parallel = parallel;
        this.totalBytes = files.stream().mapToLong(WarmupFile::size).sum();
    }

    /** Warms every file; returns each one's result, in the order given. */
    public List<FileResult> run(Progress progress) throws InterruptedException {
        List<WarmupFile> toRead = new ArrayList<>();
        for (WarmupFile file : files) {
            FileState state = stateOrNull(file);
            if (state != null && state.whole()) {
                done(progress, new FileResult(file, Outcome.CACHED_BEFORE, new Tiers(file.size(), 0, 0), 0, null));
            } else {
                toRead.add(file);
            }
        }
        try (ExecutorService readers = Executors.newFixedThreadPool(Math.max(1, Math.min(parallel, toRead.size() + 1)),
                Thread.ofPlatform().name("warmup-", 0).daemon().factory())) {
            List<Future<?>> pending = new ArrayList<>();
            for (WarmupFile file : toRead) {
                pending.add(readers.submit(() -> done(progress, cancelled
                        ? new FileResult(file, Outcome.FAILED, Tiers.NONE, 0, "stopped") : read(file))));
            }
            for (Future<?> future : pending) {
                try {
                    future.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
            }
        }
        // Held whole now? A file read early may have been evicted for one read later.
        synchronized (results) {
            results.replaceAll(result -> result.outcome() == Outcome.LOADED ? verified(result) : result);
        }
        Map<WarmupFile, FileResult> byFile = new HashMap<>();
        synchronized (results) {
            results.forEach(result -> byFile.put(result.file(), result));
        }
        List<FileResult> ordered = files.stream().map(byFile::get).filter(Objects::nonNull).toList();
        return ordered;
    }

    /** Stops reading: files not read yet, or being read, end as failed ("stopped"). */
    public void cancel() {
        cancelled = true;
    }

    /** {@code --check}: what is held whole now, reading nothing. */
    public List<FileResult> check() {
        List<FileResult> checked = new ArrayList<>();
        for (WarmupFile file : files) {
            FileState state = stateOrNull(file);
            checked.add(state != null && state.whole()
                    ? new FileResult(file, Outcome.CACHED_BEFORE, new Tiers(file.size(), 0, 0), 0, null)
                    : new FileResult(file, Outcome.NOT_CACHED, Tiers.NONE, 0, state == null
                    ? "the daemon did not answer for it" : "not all of it is in memory"));
        }
        return checked;
    }

    private void done(Progress progress, FileResult result) {
        results.add(result);
        progress.fileDone(result, snapshot());
    }

    private FileResult read(WarmupFile file) {
        AtomicLong position = new AtomicLong();
        reading.put(file, position);
        long start = System.nanoTime();
        ByteBuffer buffer = ByteBuffer.allocateDirect(READ_SIZE);
        try (FileChannel channel = FileChannel.open(file.path())) {
            for (int n; !cancelled && (n = channel.read(buffer.clear())) >= 0; ) {
                position.addAndGet(n);
                readBytes.addAndGet(n);
            }
            if (cancelled) {
                return new FileResult(file, Outcome.FAILED, Tiers.NONE, seconds(start), "stopped");
            }
            FileState state = FileState.of(file.path()); // while open: this handle's tiers
            long read = position.get();
            long peer = Math.min(read, state.peer());
            long source = Math.min(read - peer, state.source());
            return new FileResult(file, Outcome.LOADED, new Tiers(read - peer - source, peer, source), seconds(start), null);
        } catch (IOException e) {
            return new FileResult(file, Outcome.FAILED, Tiers.NONE, seconds(start),
                    "reading it failed after " + position.get() + " bytes: " + describe(e));
        } finally {
            reading.remove(file);
        }
    }

    private static FileResult verified(FileResult result) {
        FileState state = stateOrNull(result.file());
        if (state != null && state.whole()) {
            return result;
        }
        return new FileResult(result.file(), Outcome.FAILED, result.tiers(), result.seconds(),
                "read, but not all of it is in memory now (evicted for files read after it: the cache is smaller "
                        + "than what was warmed, or the file changed)");
    }

    private static FileState stateOrNull(WarmupFile file) {
        try {
            return FileState.of(file.path());
        } catch (IOException e) {
            return null;
        }
    }

    /** Where the warm-up is now; asks the daemon about the files being read. */
    public Snapshot snapshot() {
        long done = 0;
        Tiers tiers = Tiers.NONE;
        int filesDone;
        int filesFailed = 0;
        synchronized (results) {
            for (FileResult result : results) {
                done += result.outcome() == Outcome.CACHED_BEFORE ? result.file().size() : 0;
                tiers = tiers.plus(result.tiers());
                filesFailed += result.outcome() == Outcome.FAILED ? 1 : 0;
            }
            filesDone = results.size();
        }
        long read = readBytes.get();
        for (Map.Entry<WarmupFile, AtomicLong> active : reading.entrySet()) {
            FileState state = stateOrNull(active.getKey());
            long at = active.getValue().get();
            if (state != null) {
                long peer = Math.min(at, state.peer());
                long source = Math.min(at - peer, state.source());
                tiers = tiers.plus(new Tiers(at - peer - source, peer, source));
            } else {
                tiers = tiers.plus(new Tiers(at, 0, 0));
            }
        }
        // the bytes of files read and finished are in the tiers of their results
        return new Snapshot(Math.min(totalBytes, done + read), totalBytes, read, tiers, filesDone, filesFailed, files.size(),
                System.nanoTime() - startNanos);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
