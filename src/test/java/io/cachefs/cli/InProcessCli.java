package io.cachefs.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Runs {@link Main#execute} in the test JVM with stdout and stderr captured: much faster than a
 * process, for command lines that are refused before anything is mounted.
 */
final class InProcessCli {
    /**
     * What Jazzer's agent writes to stderr for each class loaded once a fuzz test has run in this
     * JVM (surefire runs it in the same one): not the command's output, as bin/fuzz also knows.
     */
    private static final Pattern JAZZER_NOTE = Pattern.compile("(?m)^INFO: (Loaded|Instrumented) .*\\R");

    /** A refusal takes milliseconds; a command line that was accepted by mistake serves until unmounted. */
    private static final Duration REFUSAL_TIMEOUT = Duration.ofSeconds(30);

    record Outcome(int exit, String stdout, String stderr) {
    }

    private InProcessCli() {
    }

    /**
     * Synchronized: System.out and System.err are global, so two captures must not overlap.
     *
     * @throws AssertionError if the command is still running after {@link #REFUSAL_TIMEOUT}
     *     (it mounted instead of refusing; the caller's scratch directory detaches the mount)
     */
    static synchronized Outcome execute(String... args) throws InterruptedException {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream capturedOut = new ByteArrayOutputStream();
        ByteArrayOutputStream capturedErr = new ByteArrayOutputStream();
        AtomicInteger exit = new AtomicInteger(Integer.MIN_VALUE);
        System.setOut(new PrintStream(capturedOut, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(capturedErr, true, StandardCharsets.UTF_8));
        Thread command = Thread.ofPlatform().name("cachefs-in-process").start(() -> exit.set(Main.execute(args)));
        try {
            if (!command.join(REFUSAL_TIMEOUT)) {
                command.interrupt();
                throw new AssertionError("cachefs " + String.join(" ", args) + " still runs after " + REFUSAL_TIMEOUT
                        + " instead of refusing; stderr:\n" + capturedErr.toString(StandardCharsets.UTF_8));
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Outcome(exit.get(), capturedOut.toString(StandardCharsets.UTF_8),
                JAZZER_NOTE.matcher(capturedErr.toString(StandardCharsets.UTF_8)).replaceAll(""));
    }
}
