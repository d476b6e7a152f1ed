package io.cachefs.cli;

import io.cachefs.admin.PreloadStatus;
import io.cachefs.config.ByteSize;
import io.cachefs.config.MountSettings;
import io.cachefs.warmup.LineProgress;
import io.cachefs.warmup.ProgressTicker;
import io.cachefs.warmup.Targets;
import io.cachefs.warmup.Warmup;
import io.cachefs.warmup.WarmupFile;
import io.cachefs.warmup.WarmupReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A mount's preload ({@code --preload GLOB}, {@code cache.preload}): once mounted, the files the
 * globs match are loaded in the background exactly as {@code cachefs warmup} loads them, by
 * reading them through the mount, so the mount is served from the first moment and one loading
 * path serves both. Progress goes to the log every few seconds and to {@code /status}.
 */
final class Preload implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Preload.class);
    private static final long LOG_EVERY_MILLIS = 5000;
    /** Files read at once, as {@code cachefs warmup} does by default. */
    private static final int PARALLEL = 4;

    private final MountSettings settings;
    private final Thread thread;
    private volatile Warmup warmup;
    private volatile String state = "running";

    private Preload(MountSettings settings) {
        this.settings = settings;
        this.thread = Thread.ofPlatform().daemon().name("preload " + settings.mountPoint()).unstarted(this::run);
    }

    /** Starts the preload of a mount that asked for one; null if it did not. */
    static Preload start(MountSettings settings) {
        if (settings.preload().isEmpty()) {
            return null;
        }
        Preload preload = new Preload(settings);
        preload.thread.start();
        return preload;
    }

    private void run() {
        try {
            List<WarmupFile> files = matched();
            Warmup job = new Warmup(files, PARALLEL);
            warmup = job;
            LOG.info("preload: {} files, {}, matching {}", files.size(),
                    ByteSize.format(files.stream().mapToLong(WarmupFile::size).sum()), settings.preload());
            long start = System.nanoTime();
            LineProgress progress = new LineProgress(LOG::info, "preload", LOG_EVERY_MILLIS);
            List<Warmup.FileResult> results;
            try (ProgressTicker ticker = ProgressTicker.start(job, progress)) {
                results = job.run(progress);
            }
            WarmupReport report = new WarmupReport(results, (System.nanoTime() - start) / 1e9);
            if (thread.isInterrupted()) {
                state = "stopped";
                return;
            }
            state = report.failed().isEmpty() ? "done" : "failed";
            if (report.failed().isEmpty()) {
                LOG.info("preload done: {}", report.summary());
            } else {
                LOG.warn("preload done with failures: {}", report.summary());
                report.failed().forEach(f -> LOG.warn("preload: {} was not loaded: {}", f.file().shown(), f.error()));
            }
        } catch (InterruptedException e) {
            state = "stopped";
        } catch (IOException | RuntimeException e) {
            state = "failed";
            LOG.error("preload failed: {}", e.toString());
        }
    }

    /**
     * The files of every glob that matches something, each once, in the order given, as many
     * as fit in the capacity: more would evict each other.
     */
    private List<WarmupFile> matched() throws IOException {
        Set<WarmupFile> files = new LinkedHashSet<>();
        for (String glob : settings.preload()) {
            try {
                files.addAll(Targets.resolve(List.of(glob), settings.mountPoint()));
            } catch (IllegalArgumentException e) {
                LOG.warn("preload: {}", e.getMessage());
            }
        }
        List<WarmupFile> fitting = new ArrayList<>();
        long bytes = 0;
        for (WarmupFile file : files) {
            if (bytes + file.size() > settings.capacityBytes()) {
                LOG.warn("preload: {} and the files after it do not fit in the capacity of {}: not preloaded",
                        file.shown(), ByteSize.format(settings.capacityBytes()));
                break;
            }
            bytes += file.size();
            fitting.add(file);
        }
        return fitting;
    }

    PreloadStatus status() {
        Warmup job = warmup;
        if (job == null) {
            return new PreloadStatus(state, settings.preload(), 0, 0, 0, 0, 0, 0, 0, 0);
        }
        Warmup.Snapshot now = job.snapshot();
        return new PreloadStatus(state, settings.preload(), now.files(), now.filesDone(), now.filesFailed(),
                now.totalBytes(), now.doneBytes(), now.tiers().memory(), now.tiers().peer(), now.tiers().source());
    }

    /** Stops reading and waits a little for the readers: before the unmount, so no read holds the mount. */
    @Override
    public void close() {
        Warmup job = warmup;
        if (job != null) {
            job.cancel();
        }
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
