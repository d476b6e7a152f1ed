package io.cachefs.namespace;

import io.cachefs.source.FileVersion;
import io.cachefs.source.ForwardingSource;
import io.cachefs.source.LocalDirSource;
import io.cachefs.source.SourceFile;
import io.cachefs.source.SourceEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The namespace over a real directory, with a clock the test moves. */
class NamespaceTest {
    private static final Duration TTL = Duration.ofMillis(500);

    private record Change(String path, SourceEntry before, SourceEntry after) {
    }

    private Path root;
    private long now;
    private final List<Change> changes = new ArrayList<>();
    private Namespace namespace;

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createTempDirectory("cachefs-namespace-test");
        namespace = new Namespace(new LocalDirSource(root), TTL, () -> now,
                (path, before, after) -> changes.add(new Change(path, before, after)));
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void pass(Duration time) {
        now += time.toNanos();
    }

    @Test
    void aListingSlowerThanTheTtlIsRememberedFromWhenTheSourceAnswered() throws IOException {
        Files.write(root.resolve("a"), new byte[10]);
        int[] lists = {0};
        Namespace slow = new Namespace(new ForwardingSource(new LocalDirSource(root)) {
            @Override
            public List<SourceEntry> list(String dir) throws IOException {
                lists[0]++;
                pass(TTL.multipliedBy(3)); // pages of a large bucket, one after another
                return super.list(dir);
            }

            @Override
            public SourceFile open(FileVersion file) throws IOException {
                return delegate.open(file);
            }
        }, TTL, () -> now, (path, before, after) -> { });
        slow.list("");
        pass(TTL.dividedBy(2));
        slow.list(""); // the next chunk of the same readdir
        assertEquals(1, lists[0], "the second chunk was served from the listing just made");
    }

    @Test
    void expiredEntriesOfALargeDirectoryAreAnsweredWhileOneListingRefreshesThem() throws Exception {
        for (int i = 0; i < Namespace.RELIST_FROM_ENTRIES; i++) {
            Files.write(root.resolve("f" + i), new byte[i]);
        }
        AtomicInteger lists = new AtomicInteger();
        AtomicInteger stats = new AtomicInteger();
        Namespace counted = new Namespace(new ForwardingSource(new LocalDirSource(root)) {
            @Override
            public List<SourceEntry> list(String dir) throws IOException {
                lists.incrementAndGet();
                return super.list(dir);
            }

            @Override
            public Optional<SourceEntry> stat(String path) throws IOException {
                stats.incrementAndGet();
                return super.stat(path);
            }

            @Override
            public SourceFile open(FileVersion file) throws IOException {
                return delegate.open(file);
            }
        }, TTL, () -> now, (path, before, after) -> { });
        counted.list("");
        pass(TTL.plusMillis(1));
        Files.write(root.resolve("f1"), new byte[100]);
        assertEquals(1, counted.stat("f1").orElseThrow().size(), "answered as listed while the listing refreshes");
        for (int i = 0; i < Namespace.RELIST_FROM_ENTRIES; i++) {
            counted.stat("f" + i); // the rest of an ls -l
        }
        int statsOfTheLs = stats.get(); // the wait below stats f1, which changed, as often as it asks
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (counted.stat("f1").orElseThrow().size() != 100 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(100, counted.stat("f1").orElseThrow().size(), "the listing in the background brought it");
        // no stat each: only f1, which changed and so is asked anew while it may change again
        assertTrue(statsOfTheLs <= 2, "no stat each: " + statsOfTheLs);
        assertTrue(lists.get() <= 3, "one listing at a time, not one per stat: " + lists.get());
        pass(Namespace.STALE_AT_MOST.plus(TTL));
        int before = stats.get();
        assertTrue(counted.stat("f2").isPresent());
        assertEquals(before + 1, stats.get(), "an entry expired long ago is asked of the source itself");
    }

    @Test
    void anExpiredLargeListingIsAnsweredAsItWasWhileTheNewOneComes() throws Exception {
        for (int i = 0; i < Namespace.RELIST_FROM_ENTRIES; i++) {
            Files.write(root.resolve("f" + i), new byte[1]);
        }
        assertEquals(Namespace.RELIST_FROM_ENTRIES, namespace.list("").size());
        Files.write(root.resolve("new"), new byte[1]);
        pass(TTL.plusMillis(1));
        int first = namespace.list("").size(); // the next chunk of a long readdir: no wait for the source
        assertTrue(first == Namespace.RELIST_FROM_ENTRIES || first == Namespace.RELIST_FROM_ENTRIES + 1);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (namespace.list("").size() != Namespace.RELIST_FROM_ENTRIES + 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(Namespace.RELIST_FROM_ENTRIES + 1, namespace.list("").size(), "listed again in the background");
    }

    @Test
    void answersFromMemoryWithinTheTtlAndFromTheSourceAfter() throws IOException {
        Files.write(root.resolve("a"), new byte[10]);
        assertEquals(10, namespace.stat("a").orElseThrow().size());
        Files.write(root.resolve("a"), new byte[20]);
        assertEquals(10, namespace.stat("a").orElseThrow().size(), "remembered");
        pass(TTL.plusMillis(1));
        assertEquals(20, namespace.stat("a").orElseThrow().size(), "asked again after the TTL");
    }

    @Test
    void statFreshAlwaysAsksTheSource() throws IOException {
        Files.write(root.resolve("a"), new byte[10]);
        namespace.stat("a");
        Files.write(root.resolve("a"), new byte[30]);
        assertEquals(30, namespace.statFresh("a").orElseThrow().size());
    }

    @Test
    void reportsAFileWhoseVersionChanged() throws IOException {
        Path a = root.resolve("a");
        Files.write(a, new byte[10]);
        SourceEntry first = namespace.stat("a").orElseThrow();
        Files.setLastModifiedTime(a, FileTime.fromMillis(first.mtimeNanos() / 1_000_000 + 5000));
        pass(TTL.plusMillis(1));
        SourceEntry second = namespace.stat("a").orElseThrow();
        assertEquals(List.of(new Change("a", first, second)), changes);
        pass(TTL.plusMillis(1));
        namespace.stat("a");
        assertEquals(1, changes.size(), "an unchanged version is not reported again");
    }

    @Test
    void reportsDeletedFilesFoundByStatOrByListing() throws IOException {
        Files.createDirectory(root.resolve("d"));
        Files.write(root.resolve("d/x"), new byte[1]);
        Files.write(root.resolve("d/y"), new byte[1]);
        assertEquals(2, namespace.list("d").size());
        Files.delete(root.resolve("d/x"));
        Files.delete(root.resolve("d/y"));
        pass(TTL.plusMillis(1));
        assertTrue(namespace.stat("d/x").isEmpty());
        assertEquals(List.of(), namespace.list("d"));
        assertEquals(List.of("d/x", "d/y"), changes.stream().map(Change::path).sorted().toList());
        assertTrue(changes.stream().allMatch(change -> change.after() == null));
    }

    @Test
    void newFilesAppearInListingsAfterTheTtl() throws IOException {
        assertEquals(List.of(), namespace.list(""));
        Files.write(root.resolve("new"), new byte[1]);
        assertEquals(List.of(), namespace.list(""), "within the TTL the listing is remembered");
        pass(TTL.plusMillis(1));
        assertEquals(List.of("new"), namespace.list("").stream().map(SourceEntry::name).toList());
        assertTrue(changes.isEmpty(), "a new file is no change to report");
    }

    @Test
    void forgetsExpiredPathsWhenItRemembersTooMany() throws IOException {
        namespace = new Namespace(new LocalDirSource(root), TTL, () -> now, (p, b, a) -> { }, 10);
        for (int i = 0; i < 20; i++) {
            Files.write(root.resolve("f" + i), new byte[1]);
        }
        namespace.list("");
        assertEquals(20, namespace.rememberedPaths());
        pass(TTL.plusMillis(1));
        namespace.stat("f0");
        assertTrue(namespace.rememberedPaths() <= 1, "expired paths forgotten: " + namespace.rememberedPaths());
    }
}
