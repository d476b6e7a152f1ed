package io.cachefs.source;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The root of a local source directory, and the only place that turns the relative paths callers
 * pass into filesystem paths. It guarantees that nothing outside the root is ever read or listed:
 * a malformed path (absolute, "." or "..", empty segment, NUL) is "not found", and a path whose
 * symlinks lead outside the root is "access denied".
 *
 * <p>The check resolves symlinks with {@code toRealPath} and compares with the root's real path.
 * A source whose symlinks are swapped between that check and the open could still race it; the
 * source is someone's model directory, not an adversary, and the final open refuses symlinks.
 */
final class SourceRoot {

    private final Path realRoot;

    SourceRoot(Path root) throws IOException {
        this.realRoot = root.toRealPath();
        if (!Files.isDirectory(realRoot)) {
            throw new NotDirectoryException(root + " (the source must be a directory)");
        }
    }

    Path realRoot() {
        return realRoot;
    }

    /**
     * The filesystem path of {@code path} with every symlink in it followed, for reads and
     * listings.
     *
     * @throws NoSuchFileException if it is malformed or does not exist
     * @throws AccessDeniedException if it leads outside the root
     */
    Path followed(String path) throws IOException {
        checkRelative(path);
        Path real = path.isEmpty() ? realRoot : realRoot.resolve(path).toRealPath();
        return insideRoot(path, real);
    }

    /**
     * The filesystem path of {@code path} with its parent's symlinks followed but its last segment
     * left as it is, for stat and readlink, which must see a final symlink itself.
     *
     * @throws NoSuchFileException if it is malformed or its parent does not exist
     * @throws NotDirectoryException if its parent is not a directory
     * @throws AccessDeniedException if its parent leads outside the root
     */
    Path unfollowed(String path) throws IOException {
        checkRelative(path);
        if (path.isEmpty()) {
            return realRoot;
        }
        int slash = path.lastIndexOf('/');
        String parent = slash < 0 ? "" : path.substring(0, slash);
        Path realParent = followed(parent);
        requireDirectory(realParent, parent);
        return realParent.resolve(path.substring(slash + 1));
    }

    /**
     * Throws unless {@code real} is a directory. Unlike {@link Files#isDirectory}, which answers
     * false for anything it cannot stat, a source that does not answer (a dead mount:
     * "Transport endpoint is not connected") is an error here, not "not a directory": taken for
     * an answer, it would make every file of a warm cache look deleted.
     */
    static void requireDirectory(Path real, String path) throws IOException {
        if (!Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isDirectory()) {
            throw new NotDirectoryException(path);
        }
    }

    private Path insideRoot(String path, Path real) throws AccessDeniedException {
        if (!real.startsWith(realRoot)) {
            throw new AccessDeniedException(path, null, "leads outside the source directory");
        }
        return real;
    }

    /** Rejects what is not a plain relative path; "" (the root) is allowed. */
    static void checkRelative(String path) throws NoSuchFileException {
        if (path == null) {
            throw new NoSuchFileException("null", null, "no path given");
        }
        if (path.isEmpty()) {
            return;
        }
        if (path.indexOf('\0') >= 0) {
            throw new NoSuchFileException(path.replace('\0', '?'), null, "path contains NUL");
        }
        if (path.startsWith("/")) {
            throw new NoSuchFileException(path, null, "not a relative path inside the source");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new NoSuchFileException(path, null, "path segment \"" + segment + "\" is not allowed");
            }
        }
    }
}
