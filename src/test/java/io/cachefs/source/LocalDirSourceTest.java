package io.cachefs.source;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import java.util.concurrent.TimeUnit;

class LocalDirSourceTest {

    @TempDir
    Path temp;

    Path root;
    Path outside;
    LocalDirSource source;

    @BeforeEach
    void createSourceTree() throws IOException {
        root = Files.createDirectory(temp.resolve("source"));
        outside = Files.createDirectory(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "secret");

        Files.createDirectories(root.resolve("models/sd"));
        Files.writeString(root.resolve("models/sd/model.safetensors"), "0123456789abcdef");
        Files.writeString(root.resolve("readme.txt"), "hello");
        Files.createSymbolicLink(root.resolve("latest"), Path.of("models/sd"));
        Files.createSymbolicLink(root.resolve("escape"), outside);
        Files.createSymbolicLink(root.resolve("escape.txt"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("no/such/target"));
        source = new LocalDirSource(root);
    }

    @Test
    void statReportsAFileWithItsVersionAndUnixAttributes() throws IOException {
        Path file = root.resolve("models/sd/model.safetensors");
        Instant mtime = Instant.parse("2024-05-01T12:00:00.123456789Z");
        Files.setLastModifiedTime(file, FileTime.from(mtime));

        SourceEntry entry = source.stat("models/sd/model.safetensors").orElseThrow();

        assertEquals("model.safetensors", entry.name());
        assertEquals("models/sd/model.safetensors", entry.path());
        assertEquals(SourceEntry.Kind.FILE, entry.kind());
        assertEquals(16, entry.size());
        assertEquals(mtime.getEpochSecond() * 1_000_000_000L + mtime.getNano(), entry.mtimeNanos());
        assertEquals(0100000, entry.mode() & 0170000, "mode carries the regular-file type bits");
        assertEquals(Files.getAttribute(file, "unix:ino"), entry.inode());
        assertEquals(1, entry.nlink());
        assertEquals(Files.getAttribute(file, "unix:uid"), entry.uid());
        long ctime = ((FileTime) Files.getAttribute(file, "unix:ctime")).to(
                TimeUnit.NANOSECONDS);
        assertEquals(new FileVersion("models/sd/model.safetensors", 16, entry.mtimeNanos(),
                FileVersion.changeTimeTag(ctime)), entry.version(), "the change time tells replacements apart");
    }

    @Test
    void statOfEmptyPathIsTheRootDirectory() throws IOException {
        SourceEntry rootEntry = source.stat("").orElseThrow();

        assertEquals(SourceEntry.Kind.DIRECTORY, rootEntry.kind());
        assertEquals("", rootEntry.path());
        assertEquals(0040000, rootEntry.mode() & 0170000);
    }

    @Test
    void statOfMissingPathIsEmpty() throws IOException {
        assertTrue(source.stat("models/nope.bin").isEmpty());
        assertTrue(source.stat("no/such/dir/file").isEmpty());
        assertTrue(source.stat("readme.txt/child").isEmpty(), "a file has no children");
    }

    @Test
    void statDoesNotFollowAFinalSymlink() throws IOException {
        assertEquals(SourceEntry.Kind.SYMLINK, source.stat("latest").orElseThrow().kind());
        assertEquals(SourceEntry.Kind.SYMLINK, source.stat("dangling").orElseThrow().kind());
        assertEquals(SourceEntry.Kind.SYMLINK, source.stat("escape").orElseThrow().kind());
    }

    @Test
    void statFollowsSymlinksInsideTheSourceInTheMiddleOfAPath() throws IOException {
        assertEquals(16, source.stat("latest/model.safetensors").orElseThrow().size());
    }

    @Test
    void versionOfANonFileIsRefused() throws IOException {
        SourceEntry dir = source.stat("models").orElseThrow();
        assertThrows(IllegalStateException.class, dir::version);
    }

    @Test
    void listReturnsEntriesSortedByNameWithRelativePaths() throws IOException {
        List<SourceEntry> top = source.list("");

        assertEquals(List.of("dangling", "escape", "escape.txt", "latest", "models", "readme.txt"),
                top.stream().map(SourceEntry::name).toList());
        assertEquals(List.of("models/sd"), source.list("models").stream().map(SourceEntry::path).toList());
        assertEquals(SourceEntry.Kind.DIRECTORY, source.list("models").getFirst().kind());
    }

    @Test
    void listThroughASymlinkInsideTheSourceUsesTheLogicalPath() throws IOException {
        assertEquals(List.of("latest/model.safetensors"),
                source.list("latest").stream().map(SourceEntry::path).toList());
    }

    @Test
    void listOfAMissingDirectoryOrAFileFailsAsUsual() {
        assertThrows(NoSuchFileException.class, () -> source.list("nope"));
        assertThrows(NotDirectoryException.class, () -> source.list("readme.txt"));
    }

    @Test
    void readlinkGivesTheTargetAsStored() throws IOException {
        assertEquals("models/sd", source.readlink("latest"));
        assertEquals("no/such/target", source.readlink("dangling"));
        assertEquals(outside.toString(), source.readlink("escape"), "the target text itself is not secret");
        assertThrows(NotLinkException.class, () -> source.readlink("readme.txt"));
    }

    @Test
    void readReturnsTheRequestedRange() throws IOException {
        FileVersion version = source.stat("models/sd/model.safetensors").orElseThrow().version();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(6);

            source.read(version, 4, dst);

            assertArrayEquals("456789".getBytes(UTF_8), dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void readOfWholeFileLargerThanOneChunkIsExact() throws IOException {
        byte[] content = new byte[(16 << 20) + 12345];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31 + (i >>> 16));
        }
        Files.write(root.resolve("big.bin"), content);
        FileVersion version = source.stat("big.bin").orElseThrow().version();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(content.length);

            source.read(version, 0, dst);

            assertArrayEquals(content, dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void readPastFourGibibytesOfASparseFile() throws IOException {
        long fiveGiB = 5L << 30;
        long offset = (4L << 30) + 4096;
        try (RandomAccessFile file = new RandomAccessFile(root.resolve("sparse.bin").toFile(), "rw")) {
            file.setLength(fiveGiB);
            file.seek(offset);
            file.write("past4G".getBytes(UTF_8));
        }
        SourceEntry entry = source.stat("sparse.bin").orElseThrow();
        assertEquals(fiveGiB, entry.size());
        assertTrue(entry.blocks() < 1024, "a sparse file reports the few blocks it occupies, got " + entry.blocks());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(8);

            source.read(entry.version(), offset - 1, dst);

            assertArrayEquals("\0past4G\0".getBytes(UTF_8), dst.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void readOfAFileRewrittenWithNewContentThrowsStaleVersion() throws IOException {
        Path file = root.resolve("readme.txt");
        FileVersion version = source.stat("readme.txt").orElseThrow().version();
        Files.writeString(file, "hello, world");

        StaleVersionException e = assertThrows(StaleVersionException.class, () -> read(version, 0, 5));
        assertTrue(e.getMessage().contains("readme.txt") && e.getMessage().contains("size is now 12"),
                e.getMessage());
        assertEquals(version, e.expected());
    }

    @Test
    void readOfAFileWithSameSizeButNewMtimeThrowsStaleVersion() throws IOException {
        Path file = root.resolve("readme.txt");
        FileVersion version = source.stat("readme.txt").orElseThrow().version();
        Files.writeString(file, "HELLO");
        Files.setLastModifiedTime(file, FileTime.fromMillis(version.mtimeNanos() / 1_000_000 + 5_000));

        StaleVersionException e = assertThrows(StaleVersionException.class, () -> read(version, 0, 5));
        assertTrue(e.getMessage().contains("mtime"), e.getMessage());
    }

    @Test
    void aReplacementKeepingSizeAndMtimeIsANewVersion() throws IOException {
        // cp -p and rsync -t replace a file keeping its size and mtime: the change time still
        // tells them apart, so the old version's bytes can no longer be had, and the new one
        // reads whole
        Path file = root.resolve("readme.txt");
        FileVersion version = source.stat("readme.txt").orElseThrow().version();
        Path replacement = Files.writeString(root.resolve("replacement"), "HELLO");
        Files.setLastModifiedTime(replacement, Files.getLastModifiedTime(file));
        Files.move(replacement, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

        FileVersion now = source.stat("readme.txt").orElseThrow().version();
        assertEquals(version.size(), now.size());
        assertEquals(version.mtimeNanos(), now.mtimeNanos());
        assertNotEquals(version, now);
        assertThrows(StaleVersionException.class, () -> read(version, 0, 5));
        assertArrayEquals("HELLO".getBytes(UTF_8), read(now, 0, 5));
    }

    @Test
    void readOutsideTheVersionsSizeIsRejected() {
        FileVersion version = new FileVersion("readme.txt", 5, 0);
        assertThrows(IllegalArgumentException.class, () -> read(version, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> read(version, -1, 1));
    }

    @Test
    void readOfADeletedFileIsNotFound() throws IOException {
        FileVersion version = source.stat("readme.txt").orElseThrow().version();
        Files.delete(root.resolve("readme.txt"));

        assertThrows(NoSuchFileException.class, () -> read(version, 0, 5));
    }

    @ParameterizedTest
    @ValueSource(strings = {"../outside/secret.txt", "/etc/passwd", "models/../../outside/secret.txt",
            "models//sd", "./readme.txt", "models/", "readme.txt\0"})
    void malformedPathsAreNotFoundAndNeverRead(String path) {
        assertThrows(NoSuchFileException.class, () -> source.stat(path));
        assertThrows(NoSuchFileException.class, () -> source.list(path));
        assertThrows(NoSuchFileException.class, () -> source.readlink(path));
        if (!path.startsWith("/")) { // FileVersion itself refuses absolute paths
            assertThrows(NoSuchFileException.class, () -> read(new FileVersion(path, 6, 0), 0, 6));
        }
    }

    @Test
    void readThroughASymlinkLeadingOutsideIsDenied() throws IOException {
        FileTime mtime = Files.getLastModifiedTime(outside.resolve("secret.txt"));
        FileVersion escaping = new FileVersion("escape.txt", 6, mtime.to(TimeUnit.NANOSECONDS));

        assertThrows(AccessDeniedException.class, () -> read(escaping, 0, 6));
        assertThrows(AccessDeniedException.class,
                () -> read(new FileVersion("escape/secret.txt", 6, escaping.mtimeNanos()), 0, 6));
    }

    @Test
    void listOrStatThroughASymlinkLeadingOutsideIsDenied() {
        assertThrows(AccessDeniedException.class, () -> source.list("escape"));
        assertThrows(AccessDeniedException.class, () -> source.stat("escape/secret.txt"));
        assertThrows(AccessDeniedException.class, () -> source.readlink("escape/secret.txt"));
    }

    @Test
    void sourceRootThatIsNotADirectoryIsRefused() {
        assertThrows(NoSuchFileException.class, () -> new LocalDirSource(temp.resolve("missing")));
        assertThrows(FileSystemException.class, () -> new LocalDirSource(root.resolve("readme.txt")));
    }

    private byte[] read(FileVersion version, long offset, int length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(Math.max(length, 0));
            source.read(version, offset, dst);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        }
    }
}
