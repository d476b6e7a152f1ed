package io.cachefs.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Random;

/**
 * The soak (bench/soak): a peer group of three daemons over one source folder, for minutes on
 * end, with readers on every mount (sequential, mmap and shuffled), the source's files replaced
 * under them (renamed over, some keeping size and mtime), and the group's second and third
 * members killed with SIGKILL and started again. Every file carries the seed of its bytes in its
 * first 8 bytes, so every byte read is checked against the version its header names: a read
 * that mixes two versions, or serves bytes of none, is a wrong byte, the one outcome that fails
 * the soak. Errors (EIO from a replaced version, ENOTCONN from a killed member's mount) are
 * counted. The first member is never killed: its descriptors and threads after the run, once
 * quiet, are compared with those after the warm-up.
 *
 * <p>Usage: {@code Soak WORK_DIR JAR SECONDS}; prints a table and exits 1 on a wrong byte or a
 * leak.
 */
public final class Soak {
    private static final int FILES = 12;
    private static final int READERS = 8;
    private static final long KILL_EVERY_MILLIS = 40_000;
    private static final long REPLACE_EVERY_MILLIS = 1_500;

    private final Path work;
    private final Path source;
    private final Path jar;
    private final Path token;
    private final List<Member> members = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final LongAdder readsOk = new LongAdder();
    private final LongAdder bytesChecked = new LongAdder();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final List<String> wrong = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong replacements = new AtomicLong();
    private final AtomicLong keptSizeAndMtime = new AtomicLong();
    private final AtomicLong kills = new AtomicLong();
    private final AtomicLong seeds = new AtomicLong(1000);

    private Soak(Path work, Path jar) {
        this.work = work;
        this.source = work.resolve("source");
        this.jar = jar;
        this.token = work.resolve("token");
    }

    public static void main(String[] args) throws Exception {
        Soak soak = new Soak(Path.of(args[0]), Path.of(args[1]));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { // Ctrl-C or bench/soak's trap: no daemon left
            try {
                soak.stopAll();
            } catch (InterruptedException | IOException e) {
                log("stopping the members: " + e);
            }
        }));
        int code;
        try {
            code = soak.run(Duration.ofSeconds(Long.parseLong(args[2])));
        } finally {
            soak.stopAll();
        }
        System.exit(code);
    }

    /** One daemon of the group, on its own loopback address. */
    private final class Member {
        final int n;
        final Path mount;
        Process process;

        Member(int n) {
            this.n = n;
            this.mount = work.resolve("mnt-" + n);
        }

        void start() throws IOException, InterruptedException {
            if (!mounted(mount)) { // a killed member's dead mount is there: the new daemon clears it
                Files.createDirectories(mount);
            }
            String peers = "127.0.0.1:27070,127.0.0.2:27070,127.0.0.3:27070";
            process = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-Xmx256m", // as bin/cachefs
                    "-jar", jar.toString(), "mount",
                    "--source", source.toString(), "--mount", mount.toString(), "--capacity", "768M",
                    "--listen", "127.0.0." + n + ":27070", "--peers", peers, "--peer-token-file", token.toString(),
                    "--admin", "127.0.0." + n + ":29300", "--source-timeout", "10s")
                    .redirectOutput(work.resolve("member-" + n + ".log").toFile())
                    .redirectErrorStream(true).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!mounted(mount)) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("member " + n + " did not mount; see " + work);
                }
                Thread.sleep(50);
            }
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }

        void stop() throws InterruptedException, IOException {
            if (process != null && process.isAlive()) {
                process.destroy();
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(20, TimeUnit.SECONDS);
                }
            }
            if (mounted(mount)) {
                new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor();
            }
        }
    }

    private int run(Duration duration) throws Exception {
        Files.createDirectories(source);
        Files.writeString(token, "soak-" + System.nanoTime() + "\n");
        for (int i = 0; i < FILES; i++) {
            writeVersion(source.resolve("model-" + i + ".bin"), (8 + 4L * i) << 20, seeds.incrementAndGet());
        }
        for (int n = 1; n <= 3; n++) {
            Member member = new Member(n);
            member.start();
            members.add(member);
        }
        Member first = members.getFirst();
        for (int i = 0; i < FILES; i++) { // warm-up: every file through the first member once
            checkedRead(first.mount.resolve("model-" + i + ".bin"), 0);
        }
        quiet();
        long fdsBefore = count(first, "fd");
        long threadsBefore = count(first, "task");
        log("warm: member 1 holds " + fdsBefore + " descriptors and " + threadsBefore + " threads");

        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            int reader = r;
            threads.add(Thread.ofPlatform().name("reader-" + r).start(() -> readLoop(reader)));
        }
        threads.add(Thread.ofPlatform().name("replacer").start(this::replaceLoop));
        threads.add(Thread.ofPlatform().name("killer").start(this::killLoop));
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < end && wrong.isEmpty()) {
            Thread.sleep(Math.min(10_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            log(String.format("%4d s: %d reads checked (%d MiB), %d errors, %d replacements, %d kills",
                    duration.toSeconds() - (end - System.nanoTime()) / 1_000_000_000L, readsOk.sum(),
                    bytesChecked.sum() >> 20, errors.values().stream().mapToLong(LongAdder::sum).sum(),
                    replacements.get(), kills.get()));
        }
        running.set(false);
        for (Thread thread : threads) {
            thread.join(120_000);
        }
        for (Member member : members) {
            if (!member.process.isAlive()) {
                member.start(); // killed at the very end: the table wants it back
            }
        }
        quiet();
        long fdsAfter = count(first, "fd");
        long threadsAfter = count(first, "task");
        boolean leak = fdsAfter > fdsBefore + 16 || threadsAfter > threadsBefore + 16;

        System.out.println();
        System.out.println("| soak (" + duration.toSeconds() + " s, 3 members, " + READERS + " readers, "
                + FILES + " files) | count |");
        System.out.println("|---|---:|");
        System.out.println("| reads checked byte by byte | " + readsOk.sum() + " (" + (bytesChecked.sum() >> 20)
                + " MiB) |");
        System.out.println("| **wrong bytes** | **" + wrong.size() + "** |");
        errors.forEach((kind, n) -> System.out.println("| reads failed: " + kind + " | " + n.sum() + " |"));
        System.out.println("| files replaced (renamed over) | " + replacements.get() + " (" + keptSizeAndMtime.get()
                + " keeping size and mtime) |");
        System.out.println("| members killed (SIGKILL) and restarted | " + kills.get() + " |");
        System.out.println("| member 1 descriptors, warm / after | " + fdsBefore + " / " + fdsAfter + " |");
        System.out.println("| member 1 threads, warm / after | " + threadsBefore + " / " + threadsAfter + " |");
        wrong.stream().limit(10).forEach(w -> System.out.println("WRONG: " + w));
        if (leak) {
            System.out.println("LEAK: descriptors or threads grew by more than 16");
        }
        return wrong.isEmpty() && !leak ? 0 : 1;
    }

    private void readLoop(int reader) {
        while (running.get()) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            Member member = members.get(random.nextInt(members.size()));
            Path file = member.mount.resolve("model-" + random.nextInt(FILES) + ".bin");
            try {
                checkedRead(file, reader % 3);
                readsOk.increment();
            } catch (IOException e) {
                String kind = String.valueOf(e.getMessage());
                kind = kind.contains("Transport endpoint") ? "ENOTCONN (a killed member's mount)"
                        : kind.contains("Input/output") ? "EIO (version replaced, or a member went away)"
                        : kind.contains("Stale file") ? "ESTALE (replaced between lookup and open)"
                        : kind.contains("No such file") || e instanceof NoSuchFileException
                                ? "ENOENT (a killed member's mount, being restarted)"
                        : e.getClass().getSimpleName() + ": " + kind.substring(Math.max(0, kind.lastIndexOf(':') + 1)).strip();
                errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
            } catch (IllegalStateException e) {
                wrong.add(file + ": " + e.getMessage());
            }
        }
    }

    /** Reads the whole file one of three ways and checks every byte against the version its header names. */
    private void checkedRead(Path file, int how) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = channel.size();
            ByteBuffer header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, header, 0);
            long seed = header.getLong(0);
            byte[] expected = contents(seed, size);
            if (how == 1) { // mmap, as safetensors loaders do
                MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                long mismatch;
                try {
                    mismatch = mapped.mismatch(MemorySegment.ofArray(expected));
                } catch (InternalError sigbus) {
                    // a page of a mapping the file system cannot fill: the kernel's SIGBUS, Java's InternalError
                    throw new IOException("Input/output error (SIGBUS in a mapping)", sigbus);
                }
                if (mismatch >= 0) {
                    throw new IllegalStateException("byte " + mismatch + " is not version " + seed + "'s (mmap)");
                }
            } else {
                int piece = 1 << 20;
                List<Long> offsets = new ArrayList<>();
                for (long at = 0; at < size; at += piece) {
                    offsets.add(at);
                }
                if (how == 2) {
                    Collections.shuffle(offsets, new Random(seed));
                }
                ByteBuffer buffer = ByteBuffer.allocate(piece);
                for (long at : offsets) {
                    buffer.clear().limit((int) Math.min(piece, size - at));
                    readFully(channel, buffer, at);
                    if (!Arrays.equals(buffer.array(), 0, buffer.limit(), expected, (int) at,
                            (int) at + buffer.limit())) {
                        throw new IllegalStateException("bytes at " + at + " are not version " + seed + "'s");
                    }
                }
            }
            bytesChecked.add(size);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long at) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, at + buffer.position()) < 0) {
                throw new IOException("early end of file at " + (at + buffer.position()));
            }
        }
    }

    private void replaceLoop() {
        while (running.get()) {
            try {
                Thread.sleep(REPLACE_EVERY_MILLIS);
                Path file = source.resolve("model-" + ThreadLocalRandom.current().nextInt(FILES) + ".bin");
                long size = Files.size(file);
                Path next = source.resolve(".next.tmp");
                writeVersion(next, size, seeds.incrementAndGet());
                if (replacements.get() % 4 == 0) { // cp -p, rsync -t: the same size and mtime
                    Files.setLastModifiedTime(next, Files.getLastModifiedTime(file));
                    keptSizeAndMtime.incrementAndGet();
                }
                Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                replacements.incrementAndGet();
            } catch (IOException | InterruptedException e) {
                log("replacer: " + e);
            }
        }
    }

    private void killLoop() {
        long next = System.currentTimeMillis() + KILL_EVERY_MILLIS;
        while (running.get()) {
            try {
                Thread.sleep(500);
                if (System.currentTimeMillis() < next) {
                    continue;
                }
                next += KILL_EVERY_MILLIS;
                Member victim = members.get(1 + ThreadLocalRandom.current().nextInt(2));
                victim.kill();
                kills.incrementAndGet();
                Thread.sleep(3_000);
                victim.start(); // clears the mount the killed daemon left
            } catch (IOException | InterruptedException | IllegalStateException e) {
                log("killer: " + e);
            }
        }
    }

    /** Version {@code seed} of a file: its seed, then bytes drawn from it. */
    private static void writeVersion(Path file, long size, long seed) throws IOException {
        Files.write(file, contents(seed, size));
    }

    private static byte[] contents(long seed, long size) {
        byte[] bytes = new byte[Math.toIntExact(size)];
        new SplittableRandom(seed).nextBytes(bytes);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, seed);
        return bytes;
    }

    /** Waits until loads and lingering streams are done and spare workers ended. */
    private void quiet() throws InterruptedException {
        Thread.sleep(15_000);
    }

    private static long count(Member member, String what) throws IOException {
        try (var entries = Files.list(Path.of("/proc/" + member.process.pid() + "/" + what))) {
            return entries.count();
        }
    }

    private static boolean mounted(Path mount) {
        try {
            String target = mount.toAbsolutePath().toString();
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .anyMatch(line -> line.split(" ")[4].equals(target));
        } catch (IOException e) {
            return false;
        }
    }

    private synchronized void stopAll() throws InterruptedException, IOException {
        running.set(false);
        for (Member member : members) {
            member.stop();
        }
    }

    private static void log(String line) {
        System.err.println("soak: " + line);
    }
}
