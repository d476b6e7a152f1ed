package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A member's port answers its own first requests at start, through the whole path, and touches nothing. */
class PortWarmUpTest {

    private static final PeerToken TOKEN = PeerToken.from(BlockServerTest.TOKEN);

    @TempDir
    Path dir;

    @Test
    void theRealPortAnswersAHolderPollAndABlockRequestWithoutReadingTheSource() throws Exception {
        Files.write(Files.createDirectories(dir.resolve("source")).resolve("model.bin"), new byte[100_000]);
        try (SourceBlocks blocks = new SourceBlocks(dir.resolve("source"), BlockServerTest.BLOCK);
                BlockServer server = BlockServer.start(BlockServerTest.loopback(), blocks, TOKEN, Duration.ofSeconds(5));
                PeerClient client = new PeerClient(TOKEN, Duration.ofSeconds(1), Duration.ofSeconds(5))) {

            assertTrue(PortWarmUp.run(client, server.address(), BlockServerTest.BLOCK));

            BlockServerStats stats = server.stats();
            assertEquals(1, stats.connections(), "both requests on one kept-alive connection");
            assertEquals(1, stats.notFound(), "the block request went through the lookup to its 404");
            assertEquals(0, stats.rejected() + stats.failed(), "signed and well formed");
            assertEquals(0, blocks.sourceReads.get(), "memory only");
        }
    }

    @Test
    void aFirstExchangeThatOutlastsTheAnswerTimeoutIsTriedOnceMore() throws Exception {
        // many members starting at once on few cores: the first, cold exchange may be late
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        try (FakePeer slowAtFirst = new FakePeer(request -> {
                    if (requests.getAndIncrement() == 0) {
                        sleep(1_500); // past the client's 1 s answer timeout
                    }
                    return (request.contains("/holders") ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                            : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
                });
                PeerClient client = new PeerClient(TOKEN, Duration.ofSeconds(1), Duration.ofSeconds(1),
                        Duration.ofSeconds(5))) {
            assertTrue(PortWarmUp.run(client, slowAtFirst.address(), BlockServerTest.BLOCK));
            assertTrue(requests.get() >= 3, "the late poll, then a poll and a block request: " + requests.get());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aPortThatAnswersWronglyIsReportedNotThrown() throws Exception {
        byte[] error = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nno\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        try (FakePeer broken = new FakePeer(request -> error);
                PeerClient client = new PeerClient(TOKEN, Duration.ofSeconds(1), Duration.ofSeconds(5))) {
            assertFalse(PortWarmUp.run(client, broken.address(), BlockServerTest.BLOCK));
        }
    }
}
