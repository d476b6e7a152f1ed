package io.cachefs.fuse;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Sequential-read throughput of the FUSE layer, measured with {@code dd bs=1M} against a tmpfs
 * baseline: the same incompressible bytes read from a file in /dev/shm, from a FUSE file served by
 * READ requests (no kept cache, so every run goes through the daemon) and from a FUSE file served
 * by passthrough to a memfd. Caches are dropped before every run. Run it with {@code bench/fuse-layer}.
 *
 * <p>Options: {@code --size-mib N} (default 2048), {@code --runs N} (default 5, after one warm-up),
 * {@code --out FILE} (also write the report there), {@code --workers N} and {@code --readahead-kb N}
 * (default: {@link MountOptions#defaults}, 16 and 4096). Needs root and /dev/fuse. Everything it creates
 * (mount, temp dir, /dev/shm file, memfd) is removed on exit, on failure and on Ctrl-C.
 */
public final class FuseLayerBench {
    private static final Pattern DD_SUMMARY = Pattern.compile("^(\\d+) bytes .* copied, ([0-9.eE+-]+) s,", Pattern.MULTILINE);

    private final long size;
    private final int runs;
    private final Path out;
    private final MountOptions options;

    private Memfd memfd;
    private Path shmFile;
    private Path mountDir;
    private FuseMount<String> mount;
    private volatile Process current;
    private boolean cleanedUp;
    private volatile boolean interrupted;

    private FuseLayerBench(long size, int runs, Path out, MountOptions options) {
        this.size = size;
        this.runs = runs;
        this.out = out;
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        long sizeMib = 2048;
        int runs = 5;
        Path out = null;
        MountOptions options = MountOptions.defaults("bench");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--size-mib" -> sizeMib = Long.parseLong(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--workers" -> options = options.withWorkers(Integer.parseInt(args[++i]));
                case "--readahead-kb" -> options = options.withReadAheadKb(Integer.parseInt(args[++i]));
                default -> {
                    System.err.println("usage: FuseLayerBench [--size-mib N] [--runs N] [--out FILE] [--workers N] [--readahead-kb N]");
                    System.exit(2);
                }
            }
        }
        FuseLayerBench bench = new FuseLayerBench(sizeMib << 20, runs, out, options);
        Thread hook = new Thread(() -> {
            bench.interrupted = true;
            bench.cleanup();
        }, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean ok;
        try {
            ok = bench.run();
        } catch (Exception | Error e) {
            if (bench.interrupted) {
                log("interrupted: removed the mount, the temp dir, the /dev/shm file and the memfd");
                return; // the JVM exits once the shutdown hooks are done
            }
            throw e;
        } finally {
            bench.cleanup();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs (and finds nothing left to do)
            }
        }
        System.exit(ok ? 0 : 1);
    }

    record Stats(String name, double[] mbPerSecond) {
        double median() {
            double[] sorted = mbPerSecond.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }

        double min() {
            return Arrays.stream(mbPerSecond).min().orElseThrow();
        }

        double max() {
            return Arrays.stream(mbPerSecond).max().orElseThrow();
        }
    }

    private boolean run() throws Exception {
        long started = System.nanoTime();
        log("filling a %d MiB memfd with xorshift64 bytes", size >> 20);
        memfd = new Memfd("fuse-layer-bench", size);
        fill(memfd.bytes);
        log("filled in %.1f s; copying to /dev/shm", seconds(started));
        shmFile = Path.of("/dev/shm", "cachefs-fuse-layer-bench-" + ProcessHandle.current().pid() + ".bin");
        copyTo(memfd.bytes, shmFile);

        MemoryFilesystem fs = new MemoryFilesystem();
        fs.file("read.bin", memfd, false, false);
        fs.file("passthrough.bin", memfd, true, false);
        mountDir = Files.createTempDirectory("cachefs-fuse-layer-bench");
        mount = FuseMount.mount(mountDir, fs, options);
        FuseConnection connection = mount.connection();
        Path readFile = mountDir.resolve("read.bin");
        Path passthroughFile = mountDir.resolve("passthrough.bin");
        List<String> problems = new ArrayList<>();
        if (!connection.passthrough()) {
            problems.add("the kernel did not agree to passthrough: the passthrough row measures READ requests");
        }

        log("checking sha256 of each path (once, untimed)");
        String expected = sha256(shmFile);
        for (Path path : List.of(readFile, passthroughFile)) {
            String actual = sha256(path);
            if (!expected.equals(actual)) {
                throw new IllegalStateException("sha256 of " + path + " is " + actual + ", tmpfs has " + expected);
            }
        }

        // Runs are interleaved (tmpfs, READ, passthrough, tmpfs, ...) so that the machine's drift
        // (a shared VM's memory bandwidth varies by 2x from second to second) hits every path alike.
        List<Path> files = List.of(shmFile, readFile, passthroughFile);
        List<String> names = List.of("tmpfs (/dev/shm)", "FUSE, READ requests", "FUSE, passthrough");
        double[][] rates = new double[files.size()][runs];
        int readRequests = 0;
        int passthroughReads = 0;
        for (int run = -1; run < runs; run++) {
            for (int p = 0; p < files.size(); p++) {
                fs.reads.set(0);
                double rate = ddOnce(files.get(p));
                int reads = fs.reads.get();
                if (p == 1) {
                    readRequests += reads;
                } else if (p == 2) {
                    passthroughReads += reads;
                }
                log("%-22s %s %5.0f MB/s", names.get(p), run < 0 ? "warm-up" : "run " + (run + 1) + "  ", rate);
                if (run >= 0) {
                    rates[p][run] = rate;
                }
            }
        }
        Stats tmpfs = new Stats(names.get(0), rates[0]);
        Stats read = new Stats(names.get(1), rates[1]);
        Stats passthrough = new Stats(names.get(2), rates[2]);
        if (passthroughReads != 0) {
            problems.add(passthroughReads + " READ requests reached the filesystem during the passthrough runs");
        }

        StringBuilder report = new StringBuilder();
        report.append("# FUSE layer: sequential read throughput\n\n");
        report.append(environment()).append('\n');
        report.append(String.format(Locale.ROOT, "File: %d MiB of xorshift64 bytes (memfd; tmpfs copy). "
                        + "Each path: `sync; echo 3 > /proc/sys/vm/drop_caches` then `dd if=FILE of=/dev/null bs=1M`, "
                        + "1 warm-up + %d timed runs interleaved across the paths, MB/s = 10^6 bytes/s from dd's own byte count and time.%n",
                size >> 20, runs));
        report.append(String.format(Locale.ROOT, "Mount: %d workers, readahead %d KiB, "
                        + "FUSE %d.%d, max READ %d KiB, passthrough %s; READ file opened without keep_cache.%n%n",
                options.workers(), options.readAheadKb(), connection.major(), connection.minor(),
                connection.maxRead() >> 10, connection.passthrough() ? "on" : "OFF"));
        report.append("| path | median MB/s | min | max | vs tmpfs |\n");
        report.append("|---|---:|---:|---:|---:|\n");
        for (Stats stats : List.of(tmpfs, read, passthrough)) {
            report.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %.2f |%n", stats.name(),
                    stats.median(), stats.min(), stats.max(), stats.median() / tmpfs.median()));
        }
        long readBytes = (runs + 1L) * size;
        report.append('\n');
        report.append(String.format(Locale.ROOT, "READ requests during the READ-path runs: %d (%.0f KiB each on average)%n",
                readRequests, readRequests == 0 ? 0.0 : readBytes / 1024.0 / readRequests));
        report.append(String.format(Locale.ROOT, "READ requests during the passthrough runs: %d%n", passthroughReads));
        report.append("sha256 (tmpfs = READ path = passthrough): ").append(expected).append('\n');
        for (String problem : problems) {
            report.append("\n**PROBLEM:** ").append(problem).append('\n');
        }
        System.out.println();
        System.out.print(report);
        System.out.flush();
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path temp = parent.resolve(out.getFileName() + ".tmp");
            Files.writeString(temp, report);
            Files.move(temp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            log("wrote %s", out);
        }
        log("total %.0f s", seconds(started));
        return problems.isEmpty();
    }

    /** Drops the caches, then one {@code dd bs=1M} of the whole file; returns dd's MB/s (10^6 bytes/s). */
    private double ddOnce(Path file) throws IOException, InterruptedException {
        run("bash", "-c", "sync; echo 3 > /proc/sys/vm/drop_caches");
        String summary = run("dd", "if=" + file, "of=/dev/null", "bs=1M");
        Matcher m = DD_SUMMARY.matcher(summary);
        if (!m.find()) {
            throw new IOException("cannot parse dd's summary: " + summary);
        }
        long bytes = Long.parseLong(m.group(1));
        if (bytes != size) {
            throw new IOException("dd read " + bytes + " bytes of " + file + ", expected " + size);
        }
        return bytes / Double.parseDouble(m.group(2)) / 1e6;
    }

    /** xorshift64 per 64 MiB chunk (seeded by the chunk index), chunks filled in parallel. */
    static void fill(MemorySegment bytes) {
        long chunk = 64L << 20;
        long size = bytes.byteSize();
        LongStream.range(0, (size + chunk - 1) / chunk).parallel().forEach(c -> {
            long from = c * chunk;
            long to = Math.min(size, from + chunk);
            long x = 0x9E3779B97F4A7C15L * (c + 1) ^ 0xD1B54A32D192ED03L;
            long i = from;
            for (; i + 8 <= to; i += 8) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                bytes.set(JAVA_LONG_UNALIGNED, i, x);
            }
            for (; i < to; i++) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                bytes.set(ValueLayout.JAVA_BYTE, i, (byte) x);
            }
        });
    }

    private static void copyTo(MemorySegment bytes, Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long chunk = 64L << 20;
            for (long offset = 0; offset < bytes.byteSize(); offset += chunk) {
                var buffer = bytes.asSlice(offset, Math.min(chunk, bytes.byteSize() - offset)).asByteBuffer();
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
        }
    }

    private String sha256(Path file) throws IOException, InterruptedException {
        return run("sha256sum", file.toString()).split(" ")[0];
    }

    /** Runs a command (killed on cleanup), returns stdout and stderr together; fails on non-zero exit. */
    private String run(String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("LC_ALL", "C");
        Process process = builder.start();
        current = process;
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = process.waitFor();
            if (exit != 0) {
                throw new IOException(String.join(" ", command) + " exited " + exit + ": " + output.strip());
            }
            return output;
        } finally {
            current = null;
        }
    }

    private String environment() {
        String kernel = readOr("/proc/sys/kernel/osrelease", "?").strip();
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("?");
        } catch (IOException e) {
            // keep "?"
        }
        long memKb = 0;
        try {
            memKb = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0);
        } catch (IOException e) {
            // keep 0
        }
        return String.format(Locale.ROOT, "- date: %s%n- kernel: Linux %s%n- cores: %d (%s)%n- memory: %.1f GiB%n"
                        + "- JDK: %s %s (%s)%n",
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME.withLocale(Locale.ROOT))
                        .replaceAll("\\.\\d+", ""),
                kernel, Runtime.getRuntime().availableProcessors(), cpu, memKb / 1024.0 / 1024.0,
                System.getProperty("java.vm.vendor"), Runtime.version(), System.getProperty("java.vm.name"));
    }

    private static String readOr(String file, String fallback) {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            return fallback;
        }
    }

    /** Removes everything the bench created; safe to call twice and from the shutdown hook. */
    private synchronized void cleanup() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        Process process = current;
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (mount != null) {
            step("unmount", mount::close);
        }
        if (mountDir != null) {
            step("last-resort unmount", () -> {
                if (Shell.isMountPoint(mountDir)) {
                    new ProcessBuilder("fusermount3", "-u", "-z", mountDir.toString()).inheritIO().start()
                            .waitFor(10, TimeUnit.SECONDS);
                    Shell.forceUnmount(mountDir);
                }
            });
            step("delete " + mountDir, () -> Files.deleteIfExists(mountDir));
        }
        if (shmFile != null) {
            step("delete " + shmFile, () -> Files.deleteIfExists(shmFile));
        }
        if (memfd != null) {
            step("close memfd", memfd::close);
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void step(String what, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            System.err.println("bench cleanup: " + what + " failed: " + e);
        }
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "bench: " + format + "%n", args);
    }
}
