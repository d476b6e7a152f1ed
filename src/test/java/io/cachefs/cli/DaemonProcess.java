package io.cachefs.cli;

import io.cachefs.source.s3.S3Server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code cachefs} ({@link Main}) in a process of its own, started from the freshly compiled
 * classes, as a service manager would run it: stdout and stderr go to files in the test's scratch
 * directory. Closing it ends the process (SIGTERM, then SIGKILL) and detaches its mount points if
 * it left them mounted.
 */
final class DaemonProcess implements AutoCloseable {
    private static final AtomicInteger STARTED = new AtomicInteger();

    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final List<Path> mountPoints;

    private DaemonProcess(Process process, Path stdout, Path stderr, List<Path> mountPoints) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
        this.mountPoints = mountPoints;
    }

    /**
     * Starts {@code cachefs args...}.
     *
     * @param mountPoints what it is expected to mount, unmounted on close if still mounted
     * @param jvmOptions extra JVM options, e.g. a system property
     */
    static DaemonProcess start(ScratchDir scratch, List<Path> mountPoints, List<String> jvmOptions, String... args)
            throws IOException {
        return start(scratch, mountPoints, List.of(), System.getProperty("java.class.path"), jvmOptions, Map.of(),
                args);
    }

    /** Starts {@code cachefs args...} with {@code env} added to the test's own environment (see below). */
    static DaemonProcess start(ScratchDir scratch, List<Path> mountPoints, List<String> jvmOptions,
                               Map<String, String> env, String... args) throws IOException {
        return start(scratch, mountPoints, List.of(), System.getProperty("java.class.path"), jvmOptions, env, args);
    }

    /**
     * Starts {@code cachefs args...} behind {@code prefix}, a command that execs it in another
     * context, e.g. {@code nsenter --net=...} (it must exec, so that the pid is the daemon's).
     */
    static DaemonProcess start(ScratchDir scratch, List<Path> mountPoints, List<String> prefix,
            List<String> jvmOptions, String... args) throws IOException {
        return start(scratch, mountPoints, prefix, System.getProperty("java.class.path"), jvmOptions, Map.of(), args);
    }

    /**
     * Starts {@code cachefs args...} behind {@code prefix} (e.g. setpriv to run as another user)
     * with {@code classpath} and an environment of the test's own: the machine's AWS variables
     * (this machine sets AWS_CA_BUNDLE) and Java option variables removed, then {@code env} added.
     */
    static DaemonProcess start(ScratchDir scratch, List<Path> mountPoints, List<String> prefix, String classpath,
                               List<String> jvmOptions, Map<String, String> env, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                // a short-lived test daemon on a shared 2-core machine: start fast, one GC thread
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classpath, Main.class.getName()));
        command.addAll(List.of(args));
        int n = STARTED.incrementAndGet();
        Path logs = scratch.dir("logs");
        Path out = logs.resolve("daemon-" + n + ".out");
        Path err = logs.resolve("daemon-" + n + ".err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        S3Server.hermetic(builder.environment());
        builder.environment().putAll(env);
        Process process = builder.start();
        return new DaemonProcess(process, out, err, List.copyOf(mountPoints));
    }

    static DaemonProcess start(ScratchDir scratch, Path mountPoint, String... args) throws IOException {
        return start(scratch, List.of(mountPoint), List.of(), args);
    }

    /** Waits until every expected mount point is mounted; fails with the daemon's output if it exits first. */
    DaemonProcess awaitMounted(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean all = true;
            for (Path mountPoint : mountPoints) {
                all &= MountTable.isMountPoint(mountPoint);
            }
            if (all) {
                return this;
            }
            if (!process.isAlive()) {
                throw new AssertionError("cachefs exited " + process.exitValue() + " before mounting " + mountPoints
                        + "\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("cachefs did not mount " + mountPoints + " within " + timeout
                        + "\nstderr:\n" + stderr());
            }
            Thread.sleep(50);
        }
    }

    /**
     * Waits until {@code mountPoint} is mounted and lists without error with at least one entry:
     * for a mount point whose stale mount is already in the mount table, so the table alone
     * cannot tell when this daemon serves it.
     */
    DaemonProcess awaitListable(Path mountPoint, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (MountTable.isMountPoint(mountPoint)) {
                try (var entries = Files.list(mountPoint)) {
                    if (entries.findAny().isPresent()) {
                        return this;
                    }
                } catch (IOException e) {
                    // stale or still mounting: try again
                }
            }
            if (!process.isAlive()) {
                throw new AssertionError("cachefs exited " + process.exitValue() + " before serving " + mountPoint
                        + "\nstderr:\n" + stderr());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("cachefs did not serve " + mountPoint + " within " + timeout
                        + "\nstderr:\n" + stderr());
            }
            Thread.sleep(50);
        }
    }

    /**
     * Waits until the admin port on {@code host:port} accepts connections: it opens after the
     * mount appears, so a test that reads /metrics right after mounting waits as a readiness
     * probe would.
     */
    DaemonProcess awaitAdmin(String host, int port, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(new java.net.InetSocketAddress(host, port), 1000);
                return this;
            } catch (java.net.ConnectException e) {
                // not listening yet
            }
            if (!process.isAlive()) {
                throw new AssertionError("cachefs exited " + process.exitValue() + " before its admin port opened"
                        + "\nstderr:\n" + stderr());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("cachefs's admin port " + host + ":" + port + " did not open within "
                        + timeout + "\nstderr:\n" + stderr());
            }
            Thread.sleep(50);
        }
    }

    /** True if the process ended within {@code timeout}. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    int exitValue() {
        return process.exitValue();
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM, as systemd or Kubernetes stop a service. */
    void terminate() {
        process.destroy();
    }

    /** SIGKILL: the daemon gets no chance to unmount. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
    }

    String stdout() throws IOException {
        return Files.readString(stdout);
    }

    String stderr() throws IOException {
        return Files.readString(stderr);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(20, TimeUnit.SECONDS);
            }
        }
        for (Path mountPoint : mountPoints) {
            MountTable.forceUnmountUnder(mountPoint);
        }
    }
}
