package io.cachefs.cli;

import io.cachefs.config.ByteSize;
import io.cachefs.config.MountSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code cachefs demo}: the product on a built-in example, as the reference product's table
 * shows it. Makes a throwaway source of model-sized files behind a deliberately slow (throttled)
 * source, mounts two instances in a peer group on loopback, reads each file from the source
 * through the first, again from its memory, then through the second, which gets it from the
 * first's memory; prints the speed-ups and the reference's figures scaled to the same size;
 * then unmounts and deletes everything.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run CacheFS on generated model files behind a throttled source: source read, local and "
                + "remote memory hits (two instances in a peer group on loopback), against the reference's table.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--files", defaultValue = "3", description = "How many files (default ${DEFAULT-VALUE}).")
    int files;

    @Option(names = "--file-size", defaultValue = "512M", paramLabel = "SIZE", description = "Size of each (default ${DEFAULT-VALUE}).")
    Size fileSize;

    @Option(names = "--source-throttle", defaultValue = "100M", paramLabel = "RATE",
            description = "Bandwidth of the slow source in bytes/s (default ${DEFAULT-VALUE}).")
    Size throttle;

    /**
     * One file's three reads.
     *
     * @param remoteSeconds the read through the second instance, whose blocks come from the first's memory
     */
    private record Row(String name, long size, double sourceSeconds, double memorySeconds, double remoteSeconds) {
    }

    /**
     * The reference product's published table: one 7.2 GB model file read from object storage,
     * from the local memory cache and from a remote instance's memory cache.
     */
    private static final double REFERENCE_BYTES = 7.2e9;
    private static final double REFERENCE_SOURCE_SECONDS = 89.9;
    private static final double REFERENCE_MEMORY_SECONDS = 3.8;
    private static final double REFERENCE_REMOTE_SECONDS = 15.2;
    private static final String DEMO_TOKEN = "cachefs-demo-token-for-loopback-only";

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
        Path local = Files.createDirectory(work.resolve("mount-1"));
        Path remote = Files.createDirectory(work.resolve("mount-2"));
        Path token = Files.writeString(work.resolve("peer-token"), DEMO_TOKEN + "\n");
        System.out.printf("making %d incompressible files of %s in %s ...%n", files, ByteSize.format(fileSize.bytes()), source);
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= files; i++) {
            String name = "model-" + i + ".safetensors";
            writeRandomFile(source.resolve(name), fileSize.bytes(), i);
            names.add(name);
        }
        // two instances of one service on this machine, a peer group on two loopback addresses
        String first = "127.0.0.1:" + freePort("127.0.0.1");
        String second = "127.0.0.2:" + freePort("127.0.0.2");
        MountSettings.Builder common = MountSettings.builder().source(source)
                .capacityBytes(files * fileSize.bytes() + (256L << 20)).sourceThrottleBytesPerSec(throttle.bytes())
                .peers(List.of(first, second)).peerTokenFile(token);
        List<double[]> times = new ArrayList<>();
        // The first instance reads from the source alone (the second is not up yet, so it loads
        // nothing for the first: each instance's throttle stands for its own link), then a second
        // instance starts, as at scale-out, and reads every file from the first one's memory.
        try (RunningMount one = RunningMount.start(common.copy().mountPoint(local).listen(first).build(), null)) {
            System.out.printf("mounted %s on %s (instance 1 of a peer group on %s and %s); the source reads at most "
                    + "%s/s%n", source, local, first, second, ByteSize.format(throttle.bytes()));
            for (String name : names) {
                times.add(new double[] {timeRead(local.resolve(name)), timeRead(local.resolve(name))});
                check(local, source, name);
            }
            try (RunningMount two = RunningMount.start(common.copy().mountPoint(remote).listen(second).build(), null)) {
                System.out.printf("mounted %s on %s (instance 2, started now: it reads from instance 1's memory)%n%n",
                        source, remote);
                List<Row> rows = new ArrayList<>();
                for (int i = 0; i < names.size(); i++) {
                    String name = names.get(i);
                    double peer = timeRead(remote.resolve(name));
                    check(remote, source, name);
                    rows.add(new Row(name, fileSize.bytes(), times.get(i)[0], times.get(i)[1], peer));
                }
                printTable(rows, one, two);
            }
        }
        return 0;
    }

    private static void check(Path mount, Path source, String name) throws IOException {
        if (Files.mismatch(mount.resolve(name), source.resolve(name)) != -1) {
            throw new IllegalStateException(name + " read through " + mount + " differs from the source");
        }
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return socket.getLocalPort();
        }
    }

    private static void printTable(List<Row> rows, RunningMount one, RunningMount two) {
        String format = "%-22s %9s %21s %21s %9s %21s %9s%n";
        System.out.printf(format, "file", "size", "source read", "memory hit", "speed-up", "remote memory hit", "speed-up");
        long bytes = 0;
        double source = 0;
        double memory = 0;
        double remote = 0;
        for (Row row : rows) {
            System.out.printf(format, row.name(), ByteSize.format(row.size()), describe(row.size(), row.sourceSeconds()),
                    describe(row.size(), row.memorySeconds()), speedUp(row.sourceSeconds(), row.memorySeconds()),
                    describe(row.size(), row.remoteSeconds()), speedUp(row.sourceSeconds(), row.remoteSeconds()));
            bytes += row.size();
            source += row.sourceSeconds();
            memory += row.memorySeconds();
            remote += row.remoteSeconds();
        }
        if (rows.size() > 1) {
            System.out.printf(format, "all", ByteSize.format(bytes), describe(bytes, source), describe(bytes, memory),
                    speedUp(source, memory), describe(bytes, remote), speedUp(source, remote));
        }
        double scale = bytes / REFERENCE_BYTES;
        String compare = "%-44s %9.2f s source  %8.2f s memory (%s)  %8.2f s remote memory (%s)%n";
        System.out.printf(Locale.ROOT, "%n" + compare, "the reference (7.2 GB, scaled to " + ByteSize.format(bytes) + "):",
                REFERENCE_SOURCE_SECONDS * scale, REFERENCE_MEMORY_SECONDS * scale,
                speedUp(REFERENCE_SOURCE_SECONDS, REFERENCE_MEMORY_SECONDS), REFERENCE_REMOTE_SECONDS * scale,
                speedUp(REFERENCE_SOURCE_SECONDS, REFERENCE_REMOTE_SECONDS));
        System.out.printf(Locale.ROOT, compare, "CacheFS here:", source, memory, speedUp(source, memory), remote,
                speedUp(source, remote));
        System.out.printf("%nbytes read from the source: %s by the first instance, %s by the second; memory hits served "
                        + "by passthrough: %d opens; every byte matched the source%n",
                ByteSize.format(one.metrics().sourceReadBytes()), ByteSize.format(two.metrics().sourceReadBytes()),
                one.metrics().passthroughOpens());
    }

    /** How many times faster {@code fast} is than {@code slow}: "24x", or "4.8x" under 10. */
    private static String speedUp(double slow, double fast) {
        double x = slow / fast;
        return x >= 10 ? String.format(Locale.ROOT, "%.0fx", x) : String.format(Locale.ROOT, "%.1fx", x);
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
