package io.cachefs.cli;

import io.cachefs.config.ByteSize;
import io.cachefs.config.MountSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code cachefs demo}: the product on a built-in example. Makes a throwaway source of
 * model-sized files behind a deliberately slow (throttled) source, mounts the cache, reads each
 * file twice and prints what the second read gained; then unmounts and deletes everything.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run CacheFS on generated model files behind a throttled source and print the speed-up.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--files", defaultValue = "3", description = "How many files (default ${DEFAULT-VALUE}).")
    int files;

    @Option(names = "--file-size", defaultValue = "512M", paramLabel = "SIZE", description = "Size of each (default ${DEFAULT-VALUE}).")
    Size fileSize;

    @Option(names = "--source-throttle", defaultValue = "100M", paramLabel = "RATE",
            description = "Bandwidth of the slow source in bytes/s (default ${DEFAULT-VALUE}).")
    Size throttle;

    private record Row(String name, long size, double sourceSeconds, double memorySeconds) {
    }

    @Override
    public Integer call() throws Exception {
        if (files < 1 || files > 64) {
            throw new UserError("--files must be between 1 and 64");
        }
        Path work = Files.createTempDirectory("cachefs-demo");
        Thread cleanup = new Thread(() -> deleteTree(work), "cachefs-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            return run(work);
        } finally {
            deleteTree(work);
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
    }

    private int run(Path work) throws Exception {
        Path source = Files.createDirectory(work.resolve("source"));
        Path mount = Files.createDirectory(work.resolve("mount"));
        System.out.printf("making %d incompressible files of %s in %s ...%n", files, ByteSize.format(fileSize.bytes()), source);
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= files; i++) {
            String name = "model-" + i + ".safetensors";
            writeRandomFile(source.resolve(name), fileSize.bytes(), i);
            names.add(name);
        }
        MountSettings settings = MountSettings.builder().source(source).mountPoint(mount)
                .capacityBytes(files * fileSize.bytes() + (256L << 20)).sourceThrottleBytesPerSec(throttle.bytes()).build();
        List<Row> rows = new ArrayList<>();
        try (RunningMount running = RunningMount.start(settings)) {
            System.out.printf("mounted %s on %s; the source reads at most %s/s%n%n", source, mount,
                    ByteSize.format(throttle.bytes()));
            for (String name : names) {
                double cold = timeRead(mount.resolve(name));
                double hot = timeRead(mount.resolve(name));
                rows.add(new Row(name, fileSize.bytes(), cold, hot));
                if (Files.mismatch(mount.resolve(name), source.resolve(name)) != -1) {
                    throw new IllegalStateException(name + " read through the mount differs from the source");
                }
            }
            printTable(rows, running);
        }
        return 0;
    }

    private static void printTable(List<Row> rows, RunningMount running) {
        String format = "%-22s %10s %22s %22s %9s%n";
        System.out.printf(format, "file", "size", "source read", "memory hit", "speed-up");
        for (Row row : rows) {
            System.out.printf(format, row.name(), ByteSize.format(row.size()), describe(row.size(), row.sourceSeconds()),
                    describe(row.size(), row.memorySeconds()), String.format("%.0fx", row.sourceSeconds() / row.memorySeconds()));
        }
        var counters = running.readCounters();
        System.out.printf("%nbytes read from the source: %s; memory hits served by passthrough: %d opens; "
                        + "every byte matched the source%n", ByteSize.format(running.sourceReadBytes()),
                counters.passthroughOpens());
    }

    private static String describe(long bytes, double seconds) {
        return String.format("%.2f s (%,.0f MB/s)", seconds, bytes / seconds / 1e6);
    }

    /** Reads a file start to end in 1 MiB requests, as dd bs=1M would; returns seconds. */
    private static double timeRead(Path file) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        long start = System.nanoTime();
        try (FileChannel channel = FileChannel.open(file)) {
            while (channel.read(buffer.clear()) >= 0) {
                // bytes are discarded: this measures delivery, as dd to /dev/null does
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    static void writeRandomFile(Path file, long size, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < size; ) {
                buffer.clear();
                while (buffer.remaining() >= 8) {
                    buffer.putLong(random.nextLong());
                }
                buffer.flip().limit((int) Math.min(buffer.capacity(), size - written));
                written += channel.write(buffer);
            }
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | RuntimeException e) {
            System.err.println("cachefs: could not delete " + root + ": " + e.getMessage());
        }
    }
}
