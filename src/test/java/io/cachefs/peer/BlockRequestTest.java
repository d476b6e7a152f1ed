package io.cachefs.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cachefs.peer.BlockRequest.Mode;
import io.cachefs.source.FileVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockRequestTest {

    @Test
    void uriParsesBackToTheSameRequestWhateverThePathHolds() throws Exception {
        for (String path : List.of("a", "models/llama 3/model-00001-of-00002.safetensors",
                "x/a+b&c=d?e#f%g", "ünïcødé/файл.bin", "dir/.hidden")) {
            for (Mode mode : Mode.values()) {
                BlockRequest request = new BlockRequest(
                        new FileVersion(path, 10_000_000_000L, 1_700_000_000_123_456_789L),
                        2384, 4 << 20, mode);
                assertEquals(request, BlockRequest.parse(new QueryStringDecoder(request.uri())));
            }
        }
    }

    @Test
    void lengthIsTheBlockSizeButForTheShortLastBlock() {
        FileVersion file = new FileVersion("a", 10_000, 1);
        assertEquals(4096, new BlockRequest(file, 0, 4096, Mode.LOAD).length());
        assertEquals(10_000 - 8192, new BlockRequest(file, 2, 4096, Mode.LOAD).length());
        assertThrows(IllegalArgumentException.class,
                () -> new BlockRequest(file, 3, 4096, Mode.LOAD));
        assertThrows(IllegalArgumentException.class,
                () -> new BlockRequest(new FileVersion("empty", 0, 1), 0, 4096, Mode.LOAD));
    }

    @Test
    void decodedEscapesAreForbiddenPaths() {
        for (String path : List.of("..", "../x", "%2e%2e/x", "a/%2E%2E/%2e%2e/x", "a/./b",
                "%2Fetc%2Fpasswd", "a//b", "a/", "a%5c..%5cb", "a%00b", "a%0ab")) {
            var invalid = assertThrows(BlockRequest.Invalid.class, () -> BlockRequest.parse(
                    new QueryStringDecoder("/v1/blocks/0?path=" + path
                            + "&size=1&mtime=1&block_size=4096&mode=load")), path);
            assertTrue(invalid.forbiddenPath(), path);
        }
    }

    @Test
    void malformedNumbersAndParametersAreInvalidButNotForbidden() {
        String good = "path=a&size=100&mtime=1&block_size=4096&mode=memory";
        for (String uri : List.of("/v1/blocks/1x?" + good, "/v1/blocks/?" + good,
                "/v1/blocks/0?" + good.replace("size=100", "size=-100"),
                "/v1/blocks/0?" + good.replace("mtime=1", "mtime=99999999999999999999"),
                "/v1/blocks/0?" + good.replace("block_size=4096", "block_size=4294967296"),
                "/v1/blocks/0?" + good.replace("mode=memory", "mode=MEMORY"),
                "/v1/blocks/0?" + good + "&mode=load", "/v1/blocks/1?" + good,
                "/v1/blocks/0?" + good.replace("path=a&", ""), "/elsewhere?" + good)) {
            var invalid = assertThrows(BlockRequest.Invalid.class,
                    () -> BlockRequest.parse(new QueryStringDecoder(uri)), uri);
            assertFalse(invalid.forbiddenPath(), uri);
        }
    }
}
