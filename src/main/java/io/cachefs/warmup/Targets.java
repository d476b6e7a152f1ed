package io.cachefs.warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Turns what the user named (files, directories, globs; inside a cachefs mount, or relative to
 * one with {@code --mount}) into the files to warm. Every problem is bad input: an
 * {@link IllegalArgumentException} with a message that says what to fix.
 */
public final class Targets {
    private static final String FS_TYPE = "fuse.cachefs";

    private Targets() {
    }

    /**
     * @param names paths or globs ({@code *}, {@code ?}, {@code [..]}, {@code {a,b}}, {@code **}
     *     across directories); a directory means every file below it
     * @param mount the mount relative names are taken in, or null for the working directory
     * @return the files, each once, in the order named
     */
    public static List<WarmupFile> resolve(List<String> names, Path mount) throws IOException {
        List<Path> mounts = cachefsMounts();
        Path base = Path.of("").toAbsolutePath();
        if (mount != null) {
            Path absolute = mount.toAbsolutePath().normalize();
            if (!mounts.contains(absolute)) {
                throw new IllegalArgumentException("--mount " + mount + " is not a cachefs mount" + listed(mounts));
            }
            base = absolute;
        }
        Map<Path, WarmupFile> files = new LinkedHashMap<>();
        for (String name : names) {
            List<Path> matched = isGlob(name) ? glob(base, name) : List.of(base.resolve(name).normalize());
            if (matched.isEmpty()) {
                throw new IllegalArgumentException(name + " matches no file");
            }
            for (Path path : matched) {
                if (!Files.exists(path)) {
                    throw new IllegalArgumentException(name + ": no such file or directory");
                }
                for (Path file : Files.isDirectory(path) ? filesUnder(path) : List.of(path)) {
                    Path real = file.toRealPath();
                    if (!Files.isRegularFile(real)) {
                        continue; // a device, socket or fifo cannot be cached, and a mirror has none
                    }
                    Path in = mountOf(real, mounts);
                    if (in == null) {
                        throw new IllegalArgumentException(file + " is not inside a cachefs mount" + listed(mounts));
                    }
                    files.putIfAbsent(real, new WarmupFile(real, in, Files.size(real)));
                }
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(String.join(" ", names) + " names no regular file");
        }
        return List.copyOf(files.values());
    }

    private static String listed(List<Path> mounts) {
        return mounts.isEmpty() ? " (no cachefs mount is mounted here: start cachefs mount first)"
                : " (cachefs mounts here: " + String.join(", ", mounts.stream().map(Path::toString).toList()) + ")";
    }

    static boolean isGlob(String name) {
        return name.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    /** Walks from the deepest directory without a glob character and keeps what the whole pattern matches. */
    private static List<Path> glob(Path base, String pattern) throws IOException {
        Path absolute = base.resolve(pattern);
        Path root = absolute.getRoot();
        Path start = root;
        for (Path part : absolute) {
            if (isGlob(part.toString())) {
                break;
            }
            start = start.resolve(part);
        }
        if (!Files.isDirectory(start)) {
            return List.of();
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + absolute);
        try (Stream<Path> paths = Files.walk(start)) {
            return paths.filter(matcher::matches).sorted().toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static List<Path> filesUnder(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.filter(Files::isRegularFile).sorted().toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The innermost cachefs mount holding {@code path}, or null. */
    private static Path mountOf(Path path, List<Path> mounts) {
        return mounts.stream().filter(path::startsWith).max(Comparator.comparingInt(Path::getNameCount)).orElse(null);
    }

    /** The mount points of cachefs filesystems, from /proc/self/mountinfo. */
    static List<Path> cachefsMounts() throws IOException {
        List<Path> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            int dash = line.indexOf(" - ");
            if (fields.length > 4 && dash > 0 && line.substring(dash + 3).startsWith(FS_TYPE + " ")) {
                mounts.add(Path.of(unescape(fields[4])));
            }
        }
        return mounts;
    }

    private static String unescape(String field) {
        return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
