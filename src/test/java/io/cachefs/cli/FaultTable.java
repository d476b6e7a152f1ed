package io.cachefs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The table of faults and bad inputs the suite tried, with tries and outcomes: each case that
 * passes appends its row to {@code target/reliability/faults.tsv} (started afresh by each test
 * JVM) and the table is written again as {@code faults.md}; docs/RELIABILITY.md shows the table
 * of a full run. A row is written only when the case passed, so the file lists what held.
 */
final class FaultTable {
    static final Path FILE = Path.of("target", "reliability", "faults.tsv");
    static final Path TABLE = Path.of("target", "reliability", "faults.md");
    private static boolean started;

    private FaultTable() {
    }

    /**
     * Records every passing test of a class as one row of bad input: its display name is the
     * input, and passing means it was refused as {@code BadInputTest} requires (exit 2, one line,
     * nothing mounted or written).
     */
    static final class BadInputs implements TestWatcher {
        @Override
        public void testSuccessful(ExtensionContext context) {
            record("bad input: " + context.getRequiredTestMethod().getName(), 1,
                    "exit 2, one line naming the problem, nothing mounted, the source untouched");
        }
    }

    static synchronized void record(String fault, int tries, String outcome) {
        try {
            Files.createDirectories(FILE.getParent());
            if (!started) {
                Files.deleteIfExists(FILE); // this run's table, not the last one's too
                started = true;
            }
            Files.writeString(FILE, fault.replace('\t', ' ') + "\t" + tries + "\t" + outcome.replace('\t', ' ')
                    + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            writeTable();
        } catch (IOException e) {
            throw new AssertionError("could not record the fault table", e);
        }
    }

    /** Rows of one fault summed: its tries, and its outcomes as recorded (bad inputs as one row). */
    private static void writeTable() throws IOException {
        Map<String, long[]> tries = new LinkedHashMap<>();
        Map<String, String> outcomes = new LinkedHashMap<>();
        for (String line : Files.readAllLines(FILE)) {
            String[] row = line.split("\t", 3);
            String fault = row[0].startsWith("bad input: ") ? "bad inputs (command line, service file)" : row[0];
            tries.computeIfAbsent(fault, f -> new long[1])[0] += Long.parseLong(row[1]);
            outcomes.merge(fault, row[2], (a, b) -> a.equals(b) ? a : a.contains(b) ? a : a + "; " + b);
        }
        StringBuilder table = new StringBuilder("| fault | tries | outcome |\n|---|---:|---|\n");
        tries.forEach((fault, n) -> table.append("| ").append(fault).append(" | ").append(n[0]).append(" | ")
                .append(outcomes.get(fault)).append(" |\n"));
        Files.writeString(TABLE, table, StandardCharsets.UTF_8);
    }
}
