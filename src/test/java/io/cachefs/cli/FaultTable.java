package io.cachefs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The table of faults and bad inputs the suite tried, with tries and outcomes: each case that
 * passes appends its row to {@code target/reliability/faults.tsv}; docs/RELIABILITY.md shows the
 * table of a full run. A row is written only when the case passed, so the file lists what held.
 */
final class FaultTable {
    static final Path FILE = Path.of("target", "reliability", "faults.tsv");

    private FaultTable() {
    }

    /**
     * Records every passing test of a class as one row of bad input: its display name is the
     * input, and passing means it was refused as {@code BadInputTest} requires (exit 2, one line,
     * nothing mounted or written).
     */
    static final class BadInputs implements org.junit.jupiter.api.extension.TestWatcher {
        @Override
        public void testSuccessful(org.junit.jupiter.api.extension.ExtensionContext context) {
            record("bad input: " + context.getRequiredTestMethod().getName(), 1,
                    "exit 2, one line naming the problem, nothing mounted, the source untouched");
        }
    }

    static synchronized void record(String fault, int tries, String outcome) {
        try {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, fault + "\t" + tries + "\t" + outcome + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new AssertionError("could not record the fault table", e);
        }
    }
}
