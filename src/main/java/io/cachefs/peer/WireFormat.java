package io.cachefs.peer;

import java.util.HexFormat;

/**
 * The peer wire in one place: the request path and parameters, the headers, the checksum the
 * server sends and the client verifies, and the block digests that holder lists and
 * announcements carry. Both sides use these names, so they cannot drift.
 *
 * <pre>
 * Transport:      HTTP/1.1 over TCP, or with --peer-tls-* over mutual TLS 1.3 (both sides present the
 *                 group's certificate); a TLS port answers a connection that opens in plain text with
 *                 426 (one line, then closed), before reading its request; a plain port answers a TLS
 *                 handshake with 400 in plain text (which the client's TLS engine refuses at once), then closes
 * Every request:  Authorization: CacheFS-HMAC-SHA256 ts={unix seconds},nonce={16 hex},sig={64 hex}
 *                 sig = hex(HMAC-SHA256(secret, "{METHOD}\n{path?query as sent}\n{ts}\n{nonce}")); the server
 *                 takes it within 30 s of its clock and once (PeerToken); the secret never travels
 *                 X-CacheFS-Member: {the asker's name in the ring, host:port}  (for counting; optional)
 * A version:      path={url-encoded relative path}&amp;size={bytes}&amp;mtime={ns}&amp;tag={url-encoded tag}
 *                 &amp;block_size={bytes}
 *
 * GET /v1/blocks/{index}?{version}&amp;mode=memory|load[&amp;redirect=1]
 * 200  Content-Length: {block length}   X-CacheFS-CRC32C: {8 lower-case hex digits}
 *      body: the block's bytes, exactly min(block_size, size - index * block_size)
 * 307  (load with redirect=1 only) X-CacheFS-Holders: {member},{member}: not in this owner's memory,
 *      but these members hold it: ask them (memory), and only if they fail ask again without redirect
 *
 * GET /v1/holders?{version}&amp;scope=self|group
 * 200  text, one line per member holding blocks of the version: "{member} {base64 bitmap}", the
 *      bitmap little-endian (bit i = block i, as java.util.BitSet#toByteArray); scope=self: this
 *      member only; scope=group: what this member knows as the version's tracker; then, if any
 *      block's digest is known, one line "crc32c {digests}" (scope=self: the digests this member
 *      knows first-hand; scope=group: the tracker's, the first told per block, none for a block
 *      two members disagree on). A reader that predates digests skips that line: "crc32c" is no
 *      member name. A digests line that does not parse, or a second one, means none is known
 *
 * POST /v1/holdings   (an announcement; X-CacheFS-Member required)
 *      body: one line per version: "{url-encoded path} {size} {mtime} {url-encoded tag} {block_size}
 *      {base64 bitmap} {digests}": the sender now holds exactly these blocks (an empty bitmap: none),
 *      and knows these blocks' digests first-hand (it read them from the source, or verified them);
 *      a line of 6 fields (a member that predates digests) knows none. Parsed strictly: digests of
 *      blocks the line does not hold, or a count of CRC32Cs other than the bitmap's, is a 400
 * 204
 *
 * {digests}  "-" (none), or "{base64 bitmap}:{base64 CRC32Cs}": the blocks whose CRC32C follows,
 *      and one CRC32C per set bit, in block order, 4 bytes big-endian each (BlockDigests). A block
 *      fetched from a peer must match its digest where the asker knows one, on top of the header
 *      check: the header proves the bytes arrived as sent, the digest that they are the block's
 *
 * 102  (any request, before its answer) "still working": sent every half second while a lookup
 *      runs (a load waits for the source, a tracker polls the group), so a client that hears
 *      nothing within its short timeout knows the member is hung or stopped
 *
 * 4xx/5xx  one line of text saying why (401 signature missing, wrong, expired or replayed, 400 malformed, 403 path outside the
 *      source, 404 not in memory / no such file / not the current version / no such resource,
 *      405 method, 409 other block size, 503 the local load failed, 500 anything else)
 * </pre>
 *
 * Unknown headers and parameters are ignored, so a later version can add some (request signing,
 * say) without breaking a group that upgrades one member at a time.
 */
final class WireFormat {

    private WireFormat() {}

    static final String BLOCKS_PATH = "/v1/blocks/";
    static final String HOLDERS_PATH = "/v1/holders";
    static final String HOLDINGS_PATH = "/v1/holdings";

    static final String PATH = "path";
    static final String SIZE = "size";
    static final String MTIME = "mtime";
    static final String TAG = "tag";
    static final String BLOCK_SIZE = "block_size";
    static final String MODE = "mode";
    static final String REDIRECT = "redirect";
    static final String SCOPE = "scope";

    static final String CRC32C_HEADER = "X-CacheFS-CRC32C";
    static final String CRC32C_HEADER_LC = "x-cachefs-crc32c";
    static final String HOLDERS_HEADER = "X-CacheFS-Holders";
    static final String HOLDERS_HEADER_LC = "x-cachefs-holders";
    static final String MEMBER_HEADER = "X-CacheFS-Member";

    /** 426 Upgrade Required: a TLS port's answer to plain text, so that a plain member can say why it failed. */
    static final int TLS_REQUIRED = 426;

    /** Request lines are a path and five short parameters; 8 KiB leaves room for long paths. */
    static final int MAX_INITIAL_LINE = 8 * 1024;
    /** A peer sends three or four headers; anything near 16 KiB is not a peer. */
    static final int MAX_HEADER_SIZE = 16 * 1024;
    /**
     * Only announcements have a body: a line per version held, a few hundred bytes for a file of
     * thousands of blocks. This bounds what a confused client can make us buffer.
     */
    static final int MAX_REQUEST_CONTENT = 1024 * 1024;

    static String formatCrc(int crc) {
        return HexFormat.of().toHexDigits(crc);
    }
}
