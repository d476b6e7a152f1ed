package io.cachefs.namespace;

import io.cachefs.source.Source;
import io.cachefs.source.SourceEntry;
import io.cachefs.source.SourceUnavailableException;

import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.concurrent.TimeUnit;

/**
 * The source tree as the mount shows it: entries and listings remembered for a short time, so
 * that a burst of lookups costs one source stat per path, while files added, changed or deleted
 * in the source show within that time. Network mounts have no inotify, so a short TTL is the
 * only signal that works everywhere.
 *
 * <p>Every answer that replaces a remembered one is compared with it: a file whose version
 * (size, mtime) changed or that disappeared is reported to the {@link ChangeListener}, which drops
 * its cached blocks and the kernel's cached pages. A path never seen needs no report.
 *
 * <p>When the source does not answer ({@link SourceUnavailableException}: a timeout, a dead
 * mount), what was remembered is answered past its time, so that a warm service keeps seeing
 * its tree through a source outage; a path never seen fails. {@link #statFresh} never does
 * this: its callers decide what an outage means.
 */
public final class Namespace {
    /** Told when a remembered file changed version or disappeared. */
    @FunctionalInterface
    public interface ChangeListener {
        /** @param after the new entry, or null if the path no longer exists */
        void changed(String path, SourceEntry before, SourceEntry after);
    }

    private record Remembered<T>(T value, long expiresAt) {
    }

    /**
     * Above this many remembered paths, expired ones are forgotten, so a source with millions of
     * files cannot fill the small heap. Forgetting is safe: a forgotten file that changes is
     * simply not reported, and its old blocks, keyed by the old version, are never served.
     */
    static final int SWEEP_ABOVE = 100_000;
    /**
     * A directory listed with this many entries is listed again to refresh one of them: below
     * it, a stat of the one path costs the source less than a listing.
     */
    static final int RELIST_FROM_ENTRIES = 64;
    /** Past this, an expired entry is not answered while its listing refreshes: the source may be gone. */
    static final Duration STALE_AT_MOST = Duration.ofSeconds(30);
    private static final long STALE_AT_MOST_NANOS = STALE_AT_MOST.toNanos();
    private final int sweepAbove;

    private final Source source;
    private final long ttlNanos;
    private final LongSupplier clock;
    private final ChangeListener listener;
    private final Map<String, Remembered<Optional<SourceEntry>>> entries = new ConcurrentHashMap<>();
    private final Map<String, Remembered<List<SourceEntry>>> listings = new ConcurrentHashMap<>();
    private final LongAdder staleAnswers = new LongAdder();
    /** When a remembered file last changed version, for files that changed in the last few seconds. */
    private final Map<String, Long> changedAt = new ConcurrentHashMap<>();
    /**
     * How long a file that changed counts as changing: a file replaced again and again is seen
     * anew at every open meanwhile, so that the version an open checks is the one just looked up.
     */
    static final long CHANGING_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** Directories being listed again in the background for stats that found their entries expired. */
    private final Map<String, Boolean> relisting = new ConcurrentHashMap<>();

    public Namespace(Source source, Duration ttl, LongSupplier clock, ChangeListener listener) {
        this(source, ttl, clock, listener, SWEEP_ABOVE);
    }

    Namespace(Source source, Duration ttl, LongSupplier clock, ChangeListener listener, int sweepAbove) {
        this.sweepAbove = sweepAbove;
        this.source = Objects.requireNonNull(source);
        this.ttlNanos = ttl.toNanos();
        this.clock = clock;
        this.listener = listener;
    }

    public Namespace(Source source, Duration ttl, ChangeListener listener) {
        this(source, ttl, System::nanoTime, listener);
    }

    /**
     * The entry at {@code path}, from memory if asked recently, else from the source. A file that
     * changed a moment ago is always asked anew: it may be changing again (a rewrite, a loop of
     * replacements), and an open checks the version a lookup gave against the source. An expired
     * entry of a large listing is answered as it was while one listing of its directory runs in
     * the background: an {@code ls -l} of ten thousand objects outlives the TTL, and a stat each
     * would be a request each (a HEAD each on a bucket) where ten LIST pages answer them all. Such
     * an answer is at most one listing (and {@link #STALE_AT_MOST}) older than the TTL; an open
     * never uses it ({@link #statFresh}).
     */
    public Optional<SourceEntry> stat(String path) throws IOException {
        Remembered<Optional<SourceEntry>> remembered = entries.get(path);
        long now = clock.getAsLong();
        boolean changing = changing(path);
        if (remembered != null && now - remembered.expiresAt() < 0 && !changing) {
            return remembered.value();
        }
        String dir = path.lastIndexOf('/') < 0 ? "" : path.substring(0, path.lastIndexOf('/'));
        Remembered<List<SourceEntry>> listed = listings.get(dir);
        // only for a path the listing had: a name never seen (a probe for a file that is not
        // there) costs one stat, not a listing of ten thousand
        if (!changing && remembered != null && remembered.value().isPresent() && listed != null
                && listed.value().size() >= RELIST_FROM_ENTRIES && now - remembered.expiresAt() < STALE_AT_MOST_NANOS) {
            relistInBackground(dir);
            return remembered.value();
        }
        try {
            return statFresh(path);
        } catch (SourceUnavailableException e) {
            if (remembered == null) {
                throw e;
            }
            staleAnswers.increment();
            return remembered.value();
        }
    }

    /**
     * Whether {@code path} changed version within the last {@link #CHANGING_NANOS}: its lookups
     * go to the source, and the kernel should not remember them either.
     */
    public boolean changing(String path) {
        if (changedAt.isEmpty()) {
            return false;
        }
        Long at = changedAt.get(path);
        if (at == null) {
            return false;
        }
        if (clock.getAsLong() - at > CHANGING_NANOS) {
            changedAt.remove(path, at);
            return false;
        }
        return true;
    }

    /** Answers given from memory past their time because the source did not answer. */
    public long staleAnswers() {
        return staleAnswers.sum();
    }

    /** Lists {@code dir} again on a thread of its own, unless that is already under way. */
    private void relistInBackground(String dir) {
        if (relisting.putIfAbsent(dir, Boolean.TRUE) != null) {
            return;
        }
        Thread.ofVirtual().name("cachefs-relist").start(() -> {
            try {
                listFresh(dir);
            } catch (IOException | RuntimeException e) {
                // the next stat of an entry past STALE_AT_MOST asks the source itself
            } finally {
                relisting.remove(dir);
            }
        });
    }

    /** The entry at {@code path} as the source has it now (an open uses this: never a stale version). */
    public Optional<SourceEntry> statFresh(String path) throws IOException {
        Optional<SourceEntry> now = source.stat(path);
        remember(path, now);
        return now;
    }

    /**
     * The entries of directory {@code dir}, from memory if listed recently. A large listing that
     * expired is answered as it was while it is listed again in the background, like its entries
     * ({@link #stat}): a readdir of ten thousand entries comes back chunk after chunk, and must not
     * wait for a new listing at each one.
     */
    public List<SourceEntry> list(String dir) throws IOException {
        Remembered<List<SourceEntry>> remembered = listings.get(dir);
        long now = clock.getAsLong();
        if (remembered != null && now - remembered.expiresAt() < 0) {
            return remembered.value();
        }
        if (remembered != null && remembered.value().size() >= RELIST_FROM_ENTRIES
                && now - remembered.expiresAt() < STALE_AT_MOST_NANOS) {
            relistInBackground(dir);
            return remembered.value();
        }
        try {
            return listFresh(dir);
        } catch (SourceUnavailableException e) {
            if (remembered == null) {
                throw e;
            }
            staleAnswers.increment();
            return remembered.value();
        }
    }

    /** The entries of {@code dir} as the source lists them now, remembered. */
    private List<SourceEntry> listFresh(String dir) throws IOException {
        List<SourceEntry> fresh = source.list(dir);
        // Remembered from when the source answered: a listing that takes longer than the TTL (ten
        // thousand objects in pages of a thousand) must still serve the rest of the readdir that
        // asked for it, which comes back for it chunk after chunk.
        long answered = clock.getAsLong();
        Remembered<List<SourceEntry>> previous = listings.put(dir, new Remembered<>(fresh, answered + ttlNanos));
        Set<String> present = new HashSet<>();
        for (SourceEntry entry : fresh) {
            present.add(entry.path());
            remember(entry.path(), Optional.of(entry));
        }
        if (previous != null) {
            for (SourceEntry gone : previous.value()) {
                if (!present.contains(gone.path())) {
                    remember(gone.path(), Optional.empty());
                }
            }
        }
        return fresh;
    }

    /** Paths remembered now (for tests). */
    int rememberedPaths() {
        return entries.size();
    }

    public String readlink(String path) throws IOException {
        return source.readlink(path);
    }

    private void remember(String path, Optional<SourceEntry> now) {
        long time = clock.getAsLong();
        if (entries.size() > sweepAbove) {
            entries.values().removeIf(remembered -> time - remembered.expiresAt() > 0);
            listings.values().removeIf(remembered -> time - remembered.expiresAt() > 0);
        }
        Remembered<Optional<SourceEntry>> before = entries.put(path, new Remembered<>(now, time + ttlNanos));
        if (before == null || before.value().isEmpty()) {
            return;
        }
        SourceEntry old = before.value().get();
        if (now.isEmpty()) {
            listener.changed(path, old, null);
        } else if (old.kind() == SourceEntry.Kind.FILE
                && (now.get().kind() != SourceEntry.Kind.FILE || !old.version().equals(now.get().version()))) {
            if (changedAt.size() > sweepAbove) {
                changedAt.values().removeIf(at -> time - at > CHANGING_NANOS);
            }
            changedAt.put(path, time);
            listener.changed(path, old, now.get());
        }
    }
}
