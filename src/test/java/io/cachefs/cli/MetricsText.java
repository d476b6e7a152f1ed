package io.cachefs.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads samples out of a daemon's /metrics text, for the tests that start real daemons. */
final class MetricsText {
    private MetricsText() {
    }

    /** The sum of the samples of metric {@code name} whose labels contain {@code labels} (0 if none). */
    static double sum(String text, String name, String labels) {
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)} (\\S+)$", Pattern.MULTILINE).matcher(text);
        double sum = 0;
        while (m.find()) {
            if (m.group(1).contains(labels)) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return sum;
    }
}
