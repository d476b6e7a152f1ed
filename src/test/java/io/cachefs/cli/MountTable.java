package io.cachefs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The kernel's table of mounts as this process sees it (/proc/self/mountinfo). */
final class MountTable {
    private MountTable() {
    }

    /** Every mount point, in mount order; a path mounted twice appears twice. */
    static List<Path> mountPoints() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(line -> Path.of(unescape(line.split(" ")[4])))
                .toList();
    }

    /** How many mounts sit exactly on {@code path} (more than one means stacked mounts). */
    static long mountsOn(Path path) throws IOException {
        Path target = path.toAbsolutePath().normalize();
        return mountPoints().stream().filter(target::equals).count();
    }

    static boolean isMountPoint(Path path) throws IOException {
        return mountsOn(path) > 0;
    }

    /** Mounts on {@code root} or anywhere below it. */
    static List<Path> mountsUnder(Path root) throws IOException {
        Path top = root.toAbsolutePath().normalize();
        return mountPoints().stream().filter(p -> p.startsWith(top)).distinct().toList();
    }

    /** Last-resort cleanup for a test that failed half-way: detaches every mount under {@code root}. */
    static void forceUnmountUnder(Path root) throws IOException, InterruptedException {
        List<Path> mounts = mountsUnder(root).stream()
                .sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
        for (Path mount : mounts) {
            for (int attempt = 0; attempt < 5 && isMountPoint(mount); attempt++) {
                if (run("umount", "-l", mount.toString()) != 0) {
                    run("fusermount3", "-u", "-z", mount.toString());
                }
            }
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            return -1;
        }
        return process.exitValue();
    }

    private static String unescape(String field) {
        return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
