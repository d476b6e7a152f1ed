package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Any bytes on a peer connection, through the real server pipeline (caps, request deadline, HTTP
 * decoders, the request handler) on an embedded channel: no exception escapes the pipeline, and
 * everything written back is a sequence of well-formed HTTP responses as the peer client reads
 * them, or nothing (a close). {@code bin/test} replays the seeds under src/test/resources;
 * {@code .ci/run} also fuzzes it for about half a minute ({@code JAZZER_FUZZ=1}).
 */
class PeerRequestFuzzTest {
    private static final String TOKEN = "fuzz-token";
    private static Path dir;
    private static SourceBlocks blocks;
    private static BlockServerInitializer initializer;

    @BeforeAll
    static void start() throws IOException {
        dir = Files.createTempDirectory("cachefs-fuzz-peer");
        Files.write(dir.resolve("model.bin"), new byte[10000]);
        blocks = new SourceBlocks(dir, 4096);
        ServedCounters counters = new ServedCounters();
        PeerAddress self = new PeerAddress("127.0.0.1", 7070);
        BlockRequestHandler handler = new BlockRequestHandler(blocks, GroupHolders.alone(blocks, self),
                PeerToken.from(TOKEN), Runnable::run, counters);
        initializer = new BlockServerInitializer(handler, BlockServer.Limits.DEFAULT,
                new ConnectionCap(ConnectionCap.DEFAULT_PER_ADDRESS, ConnectionCap.DEFAULT_TOTAL),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), counters, null); // plain: the fuzzer speaks HTTP
    }

    @AfterAll
    static void stop() throws IOException {
        blocks.close();
        Files.deleteIfExists(dir.resolve("model.bin"));
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "30s")
    void answersAnyBytesWithWellFormedResponsesOrACloseOnly(byte[] input) {
        EmbeddedChannel channel = new EmbeddedChannel(initializer);
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(signed(input)));
            channel.runPendingTasks();
            channel.checkException(); // nothing reached the end of the pipeline unhandled
            ByteArrayOutputStream written = new ByteArrayOutputStream();
            for (Object out; (out = channel.readOutbound()) != null; ) {
                ByteBuf buf = (ByteBuf) out;
                byte[] bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
                buf.release();
                written.writeBytes(bytes);
            }
            assertResponses(written.toByteArray());
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    /**
     * The input with a valid signature header after its request line, when it has one: most of
     * the handler lies behind the signature check, and the fuzzer cannot forge HMACs.
     */
    private static byte[] signed(byte[] input) {
        String text = new String(input, java.nio.charset.StandardCharsets.ISO_8859_1);
        int lineEnd = text.indexOf("\r\n");
        String[] line = lineEnd < 0 ? new String[0] : text.substring(0, lineEnd).split(" ");
        if (line.length != 3) {
            return input;
        }
        String header = "\r\nAuthorization: " + PeerToken.from(TOKEN).authorization(line[0], line[1]);
        return (text.substring(0, lineEnd) + header + text.substring(lineEnd))
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** Reads {@code bytes} as the peer client does: heads that parse, each followed by its declared body. */
    private static void assertResponses(byte[] bytes) {
        int at = 0;
        while (at < bytes.length) {
            int end = headEnd(bytes, at);
            assertTrue(end > at, "a response head that never ends");
            byte[] head = java.util.Arrays.copyOfRange(bytes, at, end);
            ResponseHead parsed;
            try {
                parsed = ResponseHead.parse(head, head.length);
            } catch (ResponseHead.Malformed e) {
                fail("a malformed response: " + e.getMessage());
                return;
            }
            boolean empty = parsed.status() / 100 == 1 || parsed.status() == 204; // no body by definition
            long body = empty ? 0 : parsed.contentLength();
            assertTrue(body >= 0, "every answer with a body has a Content-Length");
            at = Math.toIntExact(end + body);
            assertTrue(at <= bytes.length, "a body shorter than declared");
        }
    }

    private static int headEnd(byte[] bytes, int from) {
        for (int i = from; i + 3 < bytes.length; i++) {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n') {
                return i + 4;
            }
        }
        return -1;
    }
}
