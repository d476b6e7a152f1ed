package io.cachefs.cli;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.SplittableRandom;

/**
 * A temporary directory for one test: sources, mount points, service files and daemon logs.
 * Closing it detaches anything still mounted below it before deleting it, so a test that failed
 * half-way leaves neither a mount nor a file behind.
 */
final class ScratchDir implements AutoCloseable {
    private final Path root;

    ScratchDir() throws IOException {
        root = Files.createTempDirectory("cachefs-cli-test");
    }

    Path root() {
        return root;
    }

    Path resolve(String relative) {
        return root.resolve(relative);
    }

    /** Creates the directory (and its parents). */
    Path dir(String relative) throws IOException {
        return Files.createDirectories(root.resolve(relative));
    }

    /** Creates a file of {@code size} pseudo-random bytes (incompressible, different per seed). */
    Path file(String relative, long size, long seed) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        SplittableRandom random = new SplittableRandom(seed);
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; ) {
                random.nextBytes(chunk);
                int n = (int) Math.min(chunk.length, size - written);
                out.write(chunk, 0, n);
                written += n;
            }
        }
        return file;
    }

    Path text(String relative, String content) throws IOException {
        Path file = root.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, content);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        MountTable.forceUnmountUnder(root);
        if (!MountTable.mountsUnder(root).isEmpty()) {
            throw new IOException("mounts left under " + root + " could not be detached: " + MountTable.mountsUnder(root));
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
