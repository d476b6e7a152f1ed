package io.cachefs.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What a mount mirrors, parsed once from {@code --source} or a service file's {@code cache.path}:
 * a directory (a plain folder, or an object-storage, NAS or network mount), or a bucket of an
 * S3-compatible object store named by {@code s3://BUCKET[/PREFIX]}.
 */
public sealed interface SourceLocation {

    /** A directory of this machine's filesystem, absolute and normalized. */
    record Directory(Path path) implements SourceLocation {
        public Directory {
            path = Objects.requireNonNull(path, "path").toAbsolutePath().normalize();
        }

        @Override
        public String toString() {
            return path.toString();
        }
    }

    /**
     * The objects of {@code bucket} whose keys start with {@code prefix + "/"} (every object for
     * an empty prefix).
     *
     * @param prefix without leading or trailing '/', no empty, "." or ".." segments
     */
    record Bucket(String bucket, String prefix) implements SourceLocation {
        public Bucket {
            Objects.requireNonNull(bucket, "bucket");
            Objects.requireNonNull(prefix, "prefix");
        }

        @Override
        public String toString() {
            return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
        }
    }

    /**
     * {@code s3://BUCKET[/PREFIX]} as a bucket, anything else as a directory path.
     *
     * @throws IllegalArgumentException with a message that says what a valid value looks like
     */
    static SourceLocation parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("no source given: name the directory to mirror, or s3://BUCKET/PREFIX");
        }
        int scheme = text.indexOf("://");
        if (scheme > 0 && text.substring(0, scheme).chars().allMatch(Character::isLetterOrDigit)) {
            if (!text.substring(0, scheme).equalsIgnoreCase("s3")) {
                throw new IllegalArgumentException("source " + text + " is not supported: give a directory, or an "
                        + "s3://BUCKET/PREFIX URL (for OSS, GCS, R2 and other S3-compatible stores too, with "
                        + "--s3-endpoint)");
            }
            return bucket(text, text.substring(scheme + 3));
        }
        try {
            return new Directory(Path.of(text));
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("source \"" + text + "\" is not a valid path: " + e.getReason());
        }
    }

    private static Bucket bucket(String url, String rest) {
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        while (prefix.endsWith("/")) {
            prefix = prefix.substring(0, prefix.length() - 1);
        }
        if (!bucket.matches("[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")) {
            throw new IllegalArgumentException("source " + url + " does not name a bucket: write s3://BUCKET or "
                    + "s3://BUCKET/PREFIX, where BUCKET is 3 to 63 lower-case letters, digits, '.', '-' or '_'");
        }
        if (!prefix.isEmpty()) {
            for (String segment : prefix.split("/", -1)) {
                if (segment.isEmpty() || segment.equals(".") || segment.equals("..") || segment.indexOf('\0') >= 0
                        || segment.contains("?") || segment.contains("#")) {
                    throw new IllegalArgumentException("source " + url + " has a prefix CacheFS cannot mirror: no "
                            + "empty, \".\" or \"..\" parts, '?' or '#'; write e.g. s3://" + bucket + "/models/sd");
                }
            }
        }
        return new Bucket(bucket, prefix);
    }
}
