package io.cachefs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs real tools (ls, stat, dd, ...) against mounts, as a user of the mount would. */
final class Shell {
    record Result(int exit, String out, String err) {
    }

    private Shell() {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Path err = Files.createTempFile("cachefs-test", ".err");
        try {
            Process process = new ProcessBuilder(command).redirectError(err.toFile()).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("timed out: " + String.join(" ", command));
            }
            return new Result(process.exitValue(), out, Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** Runs a command that must succeed and returns its standard output. */
    static String ok(String... command) throws IOException, InterruptedException {
        Result result = run(command);
        if (result.exit() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.exit() + ": " + result.err());
        }
        return result.out();
    }

    static String sh(String script) throws IOException, InterruptedException {
        return ok("bash", "-c", script);
    }

    /** True if something is mounted exactly on {@code path}. */
    static boolean isMountPoint(Path path) throws IOException {
        String target = path.toAbsolutePath().normalize().toString();
        List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        return lines.stream().map(line -> line.split(" ")[4]).anyMatch(target::equals);
    }

    /** Last-resort cleanup for a test that failed half-way: never leave a mount behind. */
    static void forceUnmount(Path path) throws IOException, InterruptedException {
        while (isMountPoint(path)) {
            if (run("umount", "-l", path.toString()).exit() != 0) {
                run("fusermount3", "-u", "-z", path.toString());
                return;
            }
        }
    }
}
