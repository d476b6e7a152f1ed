package io.cachefs.warmup;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on a terminal: two lines redrawn in place (the bar with bytes, rate and ETA;
 * then where the bytes came from), with a line per finished file scrolling above them.
 */
public final class TerminalProgress implements Progress {
    private static final String CLEAR_LINE = "\u001b[K";
    private static final String UP = "\u001b[1A";

    private final PrintStream out;
    private final int columns;
    private final Rate rate = new Rate();
    private double lastRate;
    private boolean drawn;

    /** @param columns the terminal's width */
    public TerminalProgress(PrintStream out, int columns) {
        this.out = out;
        this.columns = Math.max(40, columns);
    }

    @Override
    public synchronized void fileDone(Warmup.FileResult result, Warmup.Snapshot now) {
        erase();
        out.println(fit(ProgressText.fileDone(result)));
        draw(now);
    }

    @Override
    public synchronized void update(Warmup.Snapshot now) {
        lastRate = rate.add(now.nanos(), now.readBytes());
        erase();
        draw(now);
    }

    @Override
    public synchronized void finish(Warmup.Snapshot now) {
        erase();
        out.flush();
    }

    @Override
    public long tickMillis() {
        return 250;
    }

    private void erase() {
        if (drawn) {
            out.print("\r" + CLEAR_LINE + UP + "\r" + CLEAR_LINE);
            drawn = false;
        }
    }

    private void draw(Warmup.Snapshot now) {
        String numbers = String.format(Locale.ROOT, " %s / %s  %s  %s  ETA %s", ProgressText.bytes(now.doneBytes()),
                ProgressText.bytes(now.totalBytes()), ProgressText.percent(now), ProgressText.rate(lastRate),
                ProgressText.eta(now, lastRate));
        int width = Math.max(10, columns - numbers.length() - 3);
        int filled = now.totalBytes() == 0 ? width : (int) (width * now.doneBytes() / now.totalBytes());
        String bar = "[" + "#".repeat(filled) + "-".repeat(width - filled) + "]";
        out.print(fit(bar + numbers) + "\n" + fit("from " + ProgressText.tiers(now.tiers()) + "; " + ProgressText.files(now)));
        out.flush();
        drawn = true;
    }

    private String fit(String line) {
        return line.length() < columns ? line : line.substring(0, columns - 1);
    }
}
