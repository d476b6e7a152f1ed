package io.cachefs.peer;

import java.util.HexFormat;

/**
 * The peer wire in one place: the request path and parameters, the headers, and the checksum
 * the server sends and the client verifies. Both sides use these names, so they cannot drift.
 *
 * <pre>
 * GET /v1/blocks/{index}?path={url-encoded relative path}&amp;size={bytes}&amp;mtime={ns}
 *                       &amp;tag={url-encoded version tag}&amp;block_size={bytes}&amp;mode=memory|load
 * Authorization: Bearer {token}
 *
 * 200  Content-Length: {block length}   X-CacheFS-CRC32C: {8 lower-case hex digits}
 *      body: the block's bytes, exactly min(block_size, size - index * block_size)
 * 4xx/5xx  one line of text saying why (401 token, 400 malformed, 403 path outside the
 *      source, 404 not in memory / no such file / not the current version, 405 not GET,
 *      409 other block size, 503 the local load failed, 500 anything else)
 * </pre>
 */
final class WireFormat {

    private WireFormat() {}

    static final String BLOCKS_PATH = "/v1/blocks/";

    static final String PATH = "path";
    static final String SIZE = "size";
    static final String MTIME = "mtime";
    static final String TAG = "tag";
    static final String BLOCK_SIZE = "block_size";
    static final String MODE = "mode";

    static final String CRC32C_HEADER = "X-CacheFS-CRC32C";
    static final String BEARER = "Bearer ";

    /** Request lines are a path and five short parameters; 8 KiB leaves room for long paths. */
    static final int MAX_INITIAL_LINE = 8 * 1024;
    /** A peer sends three or four headers; anything near 16 KiB is not a peer. */
    static final int MAX_HEADER_SIZE = 16 * 1024;
    /** Requests have no body: this only bounds what a confused client can make us buffer. */
    static final int MAX_REQUEST_CONTENT = 64 * 1024;

    static String formatCrc(int crc) {
        return HexFormat.of().toHexDigits(crc);
    }
}
