package io.cachefs.warmup;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress as plain lines, for a log or a pipe: a line per finished file and, every few seconds,
 * where the whole warm-up is.
 */
public final class LineProgress implements Progress {
    private final PrintStream out;
    private final Rate rate = new Rate();
    private double lastRate;

    public LineProgress(PrintStream out) {
        this.out = out;
    }

    @Override
    public synchronized void fileDone(Warmup.FileResult result, Warmup.Snapshot now) {
        out.println(ProgressText.fileDone(result));
    }

    @Override
    public synchronized void update(Warmup.Snapshot now) {
        lastRate = rate.add(now.nanos(), now.readBytes());
        out.println(line(now, lastRate));
    }

    @Override
    public synchronized void finish(Warmup.Snapshot now) {
        out.flush();
    }

    @Override
    public long tickMillis() {
        return 2000;
    }

    static String line(Warmup.Snapshot now, double rate) {
        return String.format(Locale.ROOT, "warmup: %s of %s (%s), %s, ETA %s; %s; %s", ProgressText.bytes(now.doneBytes()),
                ProgressText.bytes(now.totalBytes()), ProgressText.percent(now), ProgressText.rate(rate),
                ProgressText.eta(now, rate), ProgressText.tiers(now.tiers()), ProgressText.files(now));
    }
}
