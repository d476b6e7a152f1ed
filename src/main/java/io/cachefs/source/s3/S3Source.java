package io.cachefs.source.s3;

import io.cachefs.linux.FileMode;
import io.cachefs.source.FileVersion;
import io.cachefs.source.Source;
import io.cachefs.source.SourceEntry;
import io.cachefs.source.SourceFile;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The objects under one prefix of one bucket, as a read-only tree: '/' in keys makes
 * directories, an object is a file, and its version is its size, Last-Modified and ETag. Nothing
 * is written to the bucket. Thread-safe; share one per mount.
 *
 * <p><b>Tree.</b> A directory is any key prefix ending in '/' that has keys under it (S3 has no
 * directories; a zero-byte "folder marker" object named {@code dir/} shows as the directory it
 * names, not as a file). A key whose path would have an empty, ".", ".." or NUL segment cannot
 * be a path and is left out. A name that is both an object and a prefix ({@code a} and
 * {@code a/b}) is the file: stat looks at the object first, and listings agree.
 *
 * <p><b>Freshness.</b> Listings and stats are asked of the store every time; the namespace
 * in front remembers them for its TTL, which is how new objects appear within about a second.
 *
 * <p><b>Times.</b> Last-Modified is kept to the second: HEAD sends whole seconds, LIST may send
 * milliseconds, and the same object must be the same version whichever said it.
 */
public final class S3Source implements Source, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(S3Source.class);

    private static final int FILE_MODE = FileMode.S_IFREG | 0444;
    private static final int DIRECTORY_MODE = FileMode.S_IFDIR | 0555;

    private final ObjectStore store;
    private final S3Settings settings;
    /** What directories say as their times: they have none in S3, so the mount's start. */
    private final long directoryTimeNanos;
    private final AtomicBoolean warnedOfBadKeys = new AtomicBoolean();

    S3Source(ObjectStore store, long directoryTimeNanos) {
        this.store = store;
        this.settings = store.settings();
        this.directoryTimeNanos = directoryTimeNanos;
    }

    /**
     * A source over {@code settings}' bucket, after one LIST of the prefix has shown that the
     * endpoint answers, the credentials are accepted and the bucket exists.
     *
     * @throws BucketAccessException naming what is wrong and what to do, in one line
     */
    public static S3Source connect(S3Settings settings) throws BucketAccessException {
        return connect(ObjectStore.open(settings));
    }

    /** A source over {@code store}'s bucket once the probe passed; closes the store if it did not. */
    static S3Source connect(ObjectStore store) throws BucketAccessException {
        try {
            Probe.check(store);
        } catch (BucketAccessException e) {
            store.close();
            throw e;
        }
        Instant now = Instant.now();
        return new S3Source(store, now.getEpochSecond() * 1_000_000_000L);
    }

    /** The URL mirrored, e.g. {@code s3://models/sd}. */
    public String url() {
        return settings.url();
    }

    @Override
    public Optional<SourceEntry> stat(String path) throws IOException {
        KeyPaths.checkPath(path);
        if (path.isEmpty()) {
            return Optional.of(directory(""));
        }
        Optional<ObjectStore.ObjectInfo> object = store.head(keyOf(path));
        if (object.isPresent()) {
            return Optional.of(file(path, object.get()));
        }
        ObjectStore.Page under = store.list(keyOf(path) + "/", null, 1);
        if (!under.objects().isEmpty() || !under.prefixes().isEmpty()) {
            return Optional.of(directory(path));
        }
        return Optional.empty();
    }

    @Override
    public List<SourceEntry> list(String dir) throws IOException {
        KeyPaths.checkPath(dir);
        String prefix = dir.isEmpty() ? rootPrefix() : keyOf(dir) + "/";
        Map<String, SourceEntry> byName = new LinkedHashMap<>();
        boolean anything = false;
        String token = null;
        do {
            ObjectStore.Page page = store.list(prefix, token, ObjectStore.PAGE_KEYS);
            anything |= !page.objects().isEmpty() || !page.prefixes().isEmpty();
            for (ObjectStore.ObjectInfo object : page.objects()) {
                String name = object.key().substring(prefix.length());
                if (name.isEmpty()) {
                    continue; // the directory's own folder marker
                }
                if (usable(name, object.key())) {
                    byName.put(name, file(child(dir, name), object));
                }
            }
            for (String common : page.prefixes()) {
                String name = common.substring(prefix.length(), common.length() - 1);
                if (usable(name, common)) {
                    byName.putIfAbsent(name, directory(child(dir, name))); // an object of the same name wins
                }
            }
            token = page.nextToken();
        } while (token != null);
        if (!anything && !dir.isEmpty()) {
            throw new NoSuchFileException(dir, null, "no keys under " + settings.url() + "/" + dir + "/");
        }
        List<SourceEntry> entries = new ArrayList<>(byName.values());
        entries.sort(Comparator.comparing(SourceEntry::name));
        return entries;
    }

    /** Objects are never links. */
    @Override
    public String readlink(String path) throws IOException {
        throw new NotLinkException(path);
    }

    /** No request: every GET of the handle carries the version's ETag, so its first read is the check. */
    @Override
    public SourceFile open(FileVersion file) throws IOException {
        KeyPaths.checkPath(file.path());
        return new S3File(store, new ObjectVersion(keyOf(file.path()), file));
    }

    @Override
    public void close() {
        store.close();
    }

    private String rootPrefix() {
        return settings.prefix().isEmpty() ? "" : settings.prefix() + "/";
    }

    private String keyOf(String path) {
        return rootPrefix() + path;
    }

    private static String child(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    private boolean usable(String name, String key) {
        if (KeyPaths.isName(name)) {
            return true;
        }
        if (warnedOfBadKeys.compareAndSet(false, true)) {
            LOG.warn("{}: key \"{}\" cannot be shown as a path (an empty, \".\" or \"..\" segment): left out, "
                    + "as are others like it", settings.url(), key.replace('\0', '?'));
        }
        return false;
    }

    private SourceEntry file(String path, ObjectStore.ObjectInfo object) throws IOException {
        long mtime = object.lastModified() == null ? 0 : object.lastModified().getEpochSecond() * 1_000_000_000L;
        String tag = object.etag();
        if (tag.length() > FileVersion.MAX_TAG_LENGTH || !tag.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IOException(settings.url() + "/" + path + " has an ETag CacheFS cannot carry: " + tag);
        }
        return new SourceEntry(KeyPaths.nameOf(path), path, SourceEntry.Kind.FILE, object.size(), mtime, mtime, mtime,
                FILE_MODE, KeyPaths.inodeOf(path), 1, 0, 0, Math.ceilDiv(object.size(), 512), tag);
    }

    private SourceEntry directory(String path) {
        return new SourceEntry(KeyPaths.nameOf(path), path, SourceEntry.Kind.DIRECTORY, 0, directoryTimeNanos,
                directoryTimeNanos, directoryTimeNanos, DIRECTORY_MODE, KeyPaths.inodeOf(path), 2, 0, 0, 0, "");
    }

    /**
     * Four streams of four ranged GETs each: a store caps each connection and rewards parallel
     * GETs, and climbing from one stream on a busy machine stopped as low as two (237 MB/s in
     * bench/s3-source, where four gave 301).
     */
    @Override
    public int firstStreams() {
        return 4;
    }
}
