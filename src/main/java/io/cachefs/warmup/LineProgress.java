package io.cachefs.warmup;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Progress as plain lines, for a log or a pipe: a line per finished file and, every few seconds,
 * where the whole warm-up is.
 */
public final class LineProgress implements Progress {
    private final Consumer<String> out;
    private final String name;
    private final long tickMillis;
    private final Rate rate = new Rate();
    private double lastRate;

    public LineProgress(PrintStream out) {
        this(out::println, "warmup", 2000);
    }

    /**
     * @param out where each line goes (a stream, a log)
     * @param name what starts each progress line, e.g. "warmup"
     */
    public LineProgress(Consumer<String> out, String name, long tickMillis) {
        this.out = out;
        this.name = name;
        this.tickMillis = tickMillis;
    }

    @Override
    public synchronized void fileDone(Warmup.FileResult result, Warmup.Snapshot now) {
        out.accept(ProgressText.fileDone(result));
    }

    @Override
    public synchronized void update(Warmup.Snapshot now) {
        lastRate = rate.add(now.nanos(), now.readBytes());
        out.accept(line(name, now, lastRate));
    }

    @Override
    public synchronized void finish(Warmup.Snapshot now) {
    }

    @Override
    public long tickMillis() {
        return tickMillis;
    }

    static String line(String name, Warmup.Snapshot now, double rate) {
        return String.format(Locale.ROOT, name + ": %s of %s (%s), %s, ETA %s; %s; %s", ProgressText.bytes(now.doneBytes()),
                ProgressText.bytes(now.totalBytes()), ProgressText.percent(now), ProgressText.rate(rate),
                ProgressText.eta(now, rate), ProgressText.tiers(now.tiers()), ProgressText.files(now));
    }
}
