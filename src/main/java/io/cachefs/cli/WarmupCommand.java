package io.cachefs.cli;

import io.cachefs.linux.Libc;
import io.cachefs.warmup.LineProgress;
import io.cachefs.warmup.Progress;
import io.cachefs.warmup.ProgressTicker;
import io.cachefs.warmup.Targets;
import io.cachefs.warmup.TerminalProgress;
import io.cachefs.warmup.Warmup;
import io.cachefs.warmup.WarmupFile;
import io.cachefs.warmup.WarmupReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.Console;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import io.cachefs.config.ByteSize;
import io.cachefs.warmup.ProgressText;

/**
 * {@code cachefs warmup PATH|GLOB...}: loads files into a running daemon's cache through its
 * mount (see {@link io.cachefs.warmup}). Exit 0 when every file is cached, 1 when one is not
 * (named), 2 on bad input.
 */
@Command(name = "warmup", mixinStandardHelpOptions = true,
        description = "Load files into a running daemon's cache, in parallel, showing progress. "
                + "Exits 0 when every file is cached, 1 when one is not, 2 on bad input.")
final class WarmupCommand implements Callable<Integer> {
    private static final int STDOUT = 1;

    @Parameters(arity = "1..*", paramLabel = "PATH|GLOB",
            description = "Files, directories (every file below) or globs (*, ?, [..], {a,b}, ** across directories) "
                    + "inside a cachefs mount, or relative to --mount.")
    List<String> names;

    @Option(names = "--mount", paramLabel = "MNT", description = "The cachefs mount relative names are in.")
    Path mount;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "4",
            description = "Files read at once (default ${DEFAULT-VALUE}); each large file also loads in several streams.")
    int parallel;

    @Option(names = "--check", description = "Only report which files are cached; read nothing.")
    boolean check;

    @Option(names = "--json", description = "Print one JSON document at the end instead of progress.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (parallel < 1 || parallel > 64) {
            throw new UserError("--parallel must be between 1 and 64, got " + parallel);
        }
        List<WarmupFile> files = Targets.resolve(names, mount);
        Warmup warmup = new Warmup(files, parallel);
        long start = System.nanoTime();
        if (check) {
            WarmupReport report = new WarmupReport(warmup.check(), 0);
            if (json) {
                System.out.println(report.json());
            } else {
                report.results().forEach(r -> System.out.println(ProgressText.fileDone(r)));
                System.out.println(report.checkSummary());
            }
            return report.exitCode();
        }
        checkCapacity(files);
        Progress progress = json ? Progress.NONE : progressForStdout();
        List<Warmup.FileResult> results;
        try (ProgressTicker ticker = ProgressTicker.start(warmup, progress)) {
            results = warmup.run(progress);
        }
        progress.finish(warmup.snapshot());
        WarmupReport report = new WarmupReport(results, (System.nanoTime() - start) / 1e9);
        if (json) {
            System.out.println(report.json());
        } else {
            for (Warmup.FileResult failed : report.failed()) {
                System.err.println("cachefs: " + failed.file().path() + ": " + failed.error());
            }
            System.out.println(report.summary());
        }
        return report.exitCode();
    }

    /** A bar on a terminal, plain lines otherwise (a log, a pipe, a CI job). */
    private static Progress progressForStdout() {
        Console console = System.console();
        int columns = Libc.terminalColumns(STDOUT);
        if (console != null && console.isTerminal() && columns > 0) {
            return new TerminalProgress(System.out, columns);
        }
        return new LineProgress(System.out);
    }

    /**
     * Files that do not all fit in a mount's memory would evict each other: refused before
     * anything is read. A mount's statfs total is its capacity.
     */
    private static void checkCapacity(List<WarmupFile> files) throws Exception {
        Map<Path, Long> bytesByMount = new LinkedHashMap<>();
        files.forEach(file -> bytesByMount.merge(file.mount(), file.size(), Long::sum));
        for (Map.Entry<Path, Long> mount : bytesByMount.entrySet()) {
            FileStore store = Files.getFileStore(mount.getKey());
            if (mount.getValue() > store.getTotalSpace()) {
                throw new UserError("the files to warm in " + mount.getKey() + " total "
                        + ByteSize.format(mount.getValue()) + " but its cache holds "
                        + ByteSize.format(store.getTotalSpace())
                        + ": warm fewer files or raise --capacity");
            }
        }
    }
}
