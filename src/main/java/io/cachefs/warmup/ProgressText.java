package io.cachefs.warmup;

import io.cachefs.config.ByteSize;

import java.util.Locale;

/** The phrases both progress displays use, so the terminal and the log say the same things. */
public final class ProgressText {
    private ProgressText() {
    }

    static String bytes(long n) {
        return ByteSize.format(Math.max(0, n));
    }

    static String rate(double bytesPerSecond) {
        return String.format(Locale.ROOT, "%,.0f MB/s", bytesPerSecond / 1e6);
    }

    static String eta(Warmup.Snapshot now, double rate) {
        long left = now.totalBytes() - now.doneBytes();
        if (left <= 0) {
            return "0:00";
        }
        if (rate <= 0) {
            return "--:--";
        }
        long seconds = (long) Math.ceil(left / rate);
        return seconds >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    static String percent(Warmup.Snapshot now) {
        return now.totalBytes() == 0 ? "100%"
                : String.format(Locale.ROOT, "%d%%", (int) (100 * now.doneBytes() / now.totalBytes()));
    }

    static String tiers(Tiers tiers) {
        return String.format(Locale.ROOT, "memory %s, peer %s, source %s", bytes(tiers.memory()), bytes(tiers.peer()),
                bytes(tiers.source()));
    }

    static String files(Warmup.Snapshot now) {
        return String.format(Locale.ROOT, "%d of %d file%s", now.filesDone(), now.files(), now.files() == 1 ? "" : "s");
    }

    /** One line per finished file. */
    public static String fileDone(Warmup.FileResult result) {
        WarmupFile file = result.file();
        return switch (result.outcome()) {
            case CACHED_BEFORE -> String.format(Locale.ROOT, "cached already  %s (%s)", file.shown(), bytes(file.size()));
            case LOADED -> String.format(Locale.ROOT, "cached          %s (%s) in %.1f s: %s", file.shown(),
                    bytes(file.size()), result.seconds(), tiers(result.tiers()));
            case FAILED -> String.format(Locale.ROOT, "FAILED          %s (%s): %s", file.shown(), bytes(file.size()),
                    result.error());
            case NOT_CACHED -> String.format(Locale.ROOT, "not cached      %s (%s)", file.shown(), bytes(file.size()));
        };
    }
}
