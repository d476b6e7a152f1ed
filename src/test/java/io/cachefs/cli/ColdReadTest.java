package io.cachefs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.fuse.SourceMount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/**
 * First reads of a file, by a real daemon, through a source that behaves like an object-storage
 * mount: a FUSE mount of the project's own test filesystem that counts opens and seeks (each a
 * new request on such a mount), can cap every open handle (a capped connection per ranged GET),
 * hang, and be rewritten in place. What the source counts is independent of what the daemon says.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class ColdReadTest {
    private static final int MIB = 1 << 20;

    private DaemonOverSource fixture;
    private SourceMount source;
    private Path mount;
    private DaemonProcess daemon;

    @BeforeEach
    void setUp() throws Exception {
        fixture = DaemonOverSource.create();
        source = fixture.source;
        mount = fixture.mount;
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    private void startDaemon(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--capacity", "1G"));
        args.addAll(List.of(extra));
        daemon = fixture.mount(args.toArray(String[]::new));
    }

    @Test
    void aColdReadOpensTheSourceOncePerStreamNotOncePerBlock() throws Exception {
        source.addRandomFile("model.bin", 128L * MIB, 1);
        startDaemon();

        assertEquals(source.sha256("model.bin"), Digests.sha256(mount.resolve("model.bin")));

        assertEquals(128L * MIB, source.bytesRead(), "every byte read from the source once");
        int blocks = 128 / 4;
        assertTrue(source.opens() <= blocks / 4, source.opens() + " opens for " + blocks + " blocks: a stream "
                + "keeps its handle");
        assertTrue(source.seeks() <= source.opens(), source.seeks() + " seeks over " + source.opens()
                + " handles: each stream reads its run in order");
        assertEquals(source.opens(), source.directOpens(), "a FUSE source is opened with O_DIRECT: its page "
                + "cache would hold a second copy of what the cache holds");
    }

    @Test
    void aFuseSourceThatRefusesODirectIsReadThroughItsPageCache() throws Exception {
        source.addRandomFile("model.bin", 32L * MIB, 5);
        source.refuseDirectOpens();
        startDaemon();

        assertEquals(source.sha256("model.bin"), Digests.sha256(mount.resolve("model.bin")));
        assertTrue(source.opens() >= 1, "the daemon opened the file again without O_DIRECT");
        assertEquals(0, source.directOpens());
    }

    @Test
    void aColdReadOfASourceThatCapsEachHandleIsNotSlowerThanOneStraightRead() throws Exception {
        // large enough for the climb: a stream is measured over two runs of 16 MiB (StreamTuner)
        source.addRandomFile("model.bin", 192L * MIB, 2);
        source.capEachHandle(48L * MIB);
        startDaemon();

        long straight = timed(source.dir().resolve("model.bin"));
        long bytesBefore = source.bytesRead();
        int opensBefore = source.opens();
        long cached = timed(mount.resolve("model.bin"));

        assertEquals(192L * MIB, source.bytesRead() - bytesBefore);
        assertTrue(source.opens() - opensBefore > 1, "more streams than one: each handle is capped");
        assertTrue(cached <= straight, "through the cache " + cached / 1_000_000 + " ms, straight "
                + straight / 1_000_000 + " ms");
    }

    @Test
    void anOutOfOrderReaderStartsLoadingTheWholeFile() throws Exception {
        source.addRandomFile("model.safetensors", 96L * MIB, 3);
        startDaemon();

        try (FileChannel channel = FileChannel.open(mount.resolve("model.safetensors"))) {
            ByteBuffer tail = ByteBuffer.allocate(MIB);
            channel.read(tail, 90L * MIB); // one read, near the end
        }
        awaitUntil(() -> source.bytesRead() >= 96L * MIB, Duration.ofSeconds(60), "the whole file loaded");

        assertEquals(source.sha256("model.safetensors"), Digests.sha256(mount.resolve("model.safetensors")));
        assertEquals(96L * MIB, source.bytesRead(), "the whole read came from memory");
    }

    @Test
    void aFileRewrittenDuringAStreamFailsWithEioNeverWithMixedBytes() throws Exception {
        source.addRandomFile("model.bin", 64L * MIB, 4);
        source.capEachHandle(8L * MIB); // the stream takes seconds: the rewrite lands in the middle of it
        byte[] before = source.contents("model.bin");
        startDaemon();

        long failedAt = -1;
        try (FileChannel channel = FileChannel.open(mount.resolve("model.bin"))) {
            ByteBuffer chunk = ByteBuffer.allocate(MIB);
            for (long offset = 0; offset < before.length; offset += MIB) {
                if (offset == 4L * MIB) {
                    source.rewrite("model.bin", 77);
                }
                chunk.clear();
                try {
                    while (chunk.hasRemaining() && channel.read(chunk, offset + chunk.position()) > 0) {
                        // read the whole MiB
                    }
                } catch (IOException eio) {
                    failedAt = offset;
                    break;
                }
                assertArrayEquals(Arrays.copyOfRange(before, (int) offset, (int) offset + MIB), chunk.array(),
                        "bytes at " + offset + " are the opened version's");
            }
        }
        assertTrue(failedAt >= 4L * MIB, "a read after the rewrite failed (EIO) rather than mixing versions, at "
                + failedAt);

        byte[] after = source.contents("model.bin");
        assertNotEquals(Arrays.hashCode(before), Arrays.hashCode(after));
        awaitUntil(() -> {
            try {
                return Digests.sha256(mount.resolve("model.bin")).equals(source.sha256("model.bin"));
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(60), "a new open reads the new version whole");
    }

    @Test
    void aHungSourceReadFailsWithEioInBoundedTimeAndOtherFilesStillServe() throws Exception {
        source.addRandomFile("stuck.bin", 8L * MIB, 5);
        source.addRandomFile("fine.bin", 8L * MIB, 6);
        startDaemon("--source-timeout", "2s");
        source.hang("stuck.bin");

        Process reader = new ProcessBuilder("dd", "if=" + mount.resolve("stuck.bin"), "of=/dev/null", "bs=1M")
                .redirectErrorStream(true).start();
        try {
            assertEquals(source.sha256("fine.bin"), Digests.sha256(mount.resolve("fine.bin")),
                    "another file serves while the source hangs on this one");
            assertTrue(reader.waitFor(30, TimeUnit.SECONDS), "the reader of the hung file got an answer");
            String output = new String(reader.getInputStream().readAllBytes());
            assertNotEquals(0, reader.exitValue(), output);
            assertTrue(output.contains("Input/output error"), output);
        } finally {
            reader.destroyForcibly();
        }

        source.release("stuck.bin");
        awaitUntil(() -> {
            try {
                return Digests.sha256(mount.resolve("stuck.bin")).equals(source.sha256("stuck.bin"));
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(60), "the file reads once the source answers again");
        assertTrue(daemon.isAlive());
        String log = daemon.stdout() + daemon.stderr();
        assertTrue(log.contains("giving up on it"), "the abandoned load is logged:\n" + log);
    }

    private static long timed(Path file) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Process dd = new ProcessBuilder("dd", "if=" + file, "of=/dev/null", "bs=1M").redirectErrorStream(true).start();
        String output = new String(dd.getInputStream().readAllBytes());
        assertEquals(0, dd.waitFor(), output);
        return System.nanoTime() - start;
    }

    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void awaitUntil(Condition condition, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Thread.sleep(100);
        }
    }
}
