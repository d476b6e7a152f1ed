package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachefs.source.FileVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.URLEncoder;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One block asked of a peer: which version of which file, which block, the block size the
 * asker cuts files with, and whether the peer may load the block or only look in its memory.
 * {@link #uri()} and {@link #parse} are the two directions of the same {@link WireFormat}.
 *
 * @param index a block of {@code file} under {@code blockSize}: {@code 0 <= index <
 *     ceil(size / blockSize)}
 * @param blockSize positive; a peer with another block size answers 409, since its blocks
 *     cover other byte ranges
 */
public record BlockRequest(FileVersion file, long index, int blockSize, Mode mode) {

    /** What the asked peer may do to answer. */
    public enum Mode {
        /** Answer from memory only; 404 if the block is not there. */
        MEMORY,
        /**
         * The asker thinks the peer owns the block: load it (once for the whole group) and
         * answer.
         */
        LOAD,
        /**
         * Like {@link #LOAD}, but an owner that lacks the block and knows members holding it
         * answers 307 with their names instead of loading it: the asker fetches from them and
         * asks again with {@link #LOAD} only if they fail, so a redirect never loops.
         */
        LOAD_OR_REDIRECT;

        String wireName() {
            return this == MEMORY ? "memory" : "load";
        }
    }

    /** Plain decimal, no sign: rejects "+1", "1e3", " 1", and anything that overflows long. */
    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,19}");

    public BlockRequest {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(mode, "mode");
        String pathProblem = pathProblem(file.path());
        if (pathProblem != null) {
            throw new IllegalArgumentException(pathProblem);
        }
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        }
        long blocks = Math.ceilDiv(file.size(), blockSize);
        if (index < 0 || index >= blocks) {
            throw new IllegalArgumentException("block " + index + " is outside " + file.path()
                    + " (" + blocks + " blocks of " + blockSize + " bytes)");
        }
    }

    /** Bytes the block holds: every block is full but a file's last. */
    public int length() {
        return (int) Math.min(blockSize, file.size() - index * blockSize);
    }

    /** The request's path and query, to send to a peer. */
    public String uri() {
        return WireFormat.BLOCKS_PATH + index + "?" + versionQuery(file, blockSize)
                + "&" + WireFormat.MODE + "=" + mode.wireName()
                + (mode == Mode.LOAD_OR_REDIRECT ? "&" + WireFormat.REDIRECT + "=1" : "");
    }

    /**
     * The path and query of a holder list of {@code file}: what the asked member holds itself
     * ({@code group} false, a poll), or what it knows as the version's tracker.
     */
    static String holdersUri(FileVersion file, int blockSize, boolean group) {
        return WireFormat.HOLDERS_PATH + "?" + versionQuery(file, blockSize) + "&" + WireFormat.SCOPE + "="
                + (group ? "group" : "self");
    }

    /** The query parameters that name a version and the block size it is cut with. */
    static String versionQuery(FileVersion file, int blockSize) {
        return WireFormat.PATH + "=" + URLEncoder.encode(file.path(), UTF_8)
                + "&" + WireFormat.SIZE + "=" + file.size()
                + "&" + WireFormat.MTIME + "=" + file.mtimeNanos()
                + "&" + WireFormat.TAG + "=" + URLEncoder.encode(file.tag(), UTF_8)
                + "&" + WireFormat.BLOCK_SIZE + "=" + blockSize;
    }

    /**
     * Reads a request URI as a server receives it (already split and percent-decoded by
     * Netty). The path is checked after decoding, so {@code %2e%2e} is as forbidden as
     * {@code ..}.
     *
     * @throws Invalid if anything is missing, repeated, malformed or out of range, or if the
     *     path could lead outside the source
     */
    public static BlockRequest parse(QueryStringDecoder uri) throws Invalid {
        String path = uri.path();
        if (!path.startsWith(WireFormat.BLOCKS_PATH)) {
            throw new Invalid("no such resource: " + path);
        }
        long index = number("block index", path.substring(WireFormat.BLOCKS_PATH.length()));
        Map<String, List<String>> parameters = uri.parameters();
        FileVersion file = version(parameters);
        int blockSize = blockSize(parameters);
        Mode mode = switch (parameter(parameters, WireFormat.MODE)) {
            case "memory" -> Mode.MEMORY;
            case "load" -> "1".equals(parameters.getOrDefault(WireFormat.REDIRECT, List.of("0")).getFirst())
                    ? Mode.LOAD_OR_REDIRECT : Mode.LOAD;
            default -> throw new Invalid("mode must be memory or load");
        };
        try {
            return new BlockRequest(file, index, blockSize, mode);
        } catch (IllegalArgumentException e) {
            throw new Invalid(e.getMessage());
        }
    }

    /** The version a request's parameters name; the path is checked after decoding. */
    static FileVersion version(Map<String, List<String>> parameters) throws Invalid {
        String filePath = parameter(parameters, WireFormat.PATH);
        String problem = pathProblem(filePath);
        if (problem != null) {
            throw new Invalid(problem, true);
        }
        long size = number(WireFormat.SIZE, parameter(parameters, WireFormat.SIZE));
        long mtime = number(WireFormat.MTIME, parameter(parameters, WireFormat.MTIME));
        // absent from members that predate version tags: such a request names no tagged version
        String tag = parameters.containsKey(WireFormat.TAG) ? parameter(parameters, WireFormat.TAG) : "";
        try {
            return new FileVersion(filePath, size, mtime, tag);
        } catch (IllegalArgumentException e) {
            throw new Invalid(e.getMessage());
        }
    }

    static int blockSize(Map<String, List<String>> parameters) throws Invalid {
        long blockSize = number(WireFormat.BLOCK_SIZE, parameter(parameters, WireFormat.BLOCK_SIZE));
        if (blockSize == 0 || blockSize > Integer.MAX_VALUE) {
            throw new Invalid("block_size must be from 1 to " + Integer.MAX_VALUE + ", got "
                    + blockSize);
        }
        return (int) blockSize;
    }

    /**
     * Why {@code path} is not a plain relative path inside a source, or null if it is. The
     * same rules as the source's own check, applied here too so that no escape attempt gets
     * as far as the cache.
     */
    static String pathProblem(String path) {
        if (path.isEmpty()) {
            return "empty path";
        }
        if (path.startsWith("/")) {
            return "path must be relative";
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\\' || c < ' ' || c == 0x7f) {
                return "path holds a backslash or a control character";
            }
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "path segment \"" + segment + "\" is not allowed";
            }
        }
        return null;
    }

    static String parameter(Map<String, List<String>> parameters, String name)
            throws Invalid {
        List<String> values = parameters.get(name);
        if (values == null || values.isEmpty()) {
            throw new Invalid("missing parameter " + name);
        }
        if (values.size() > 1) {
            throw new Invalid("parameter " + name + " is given " + values.size() + " times");
        }
        return values.getFirst();
    }

    static long number(String name, String text) throws Invalid {
        if (!NUMBER.matcher(text).matches()) {
            throw new Invalid(name + " must be a non-negative decimal number");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new Invalid(name + " is too large");
        }
    }

    /** A request that cannot be served as asked; the message is safe to send back. */
    public static final class Invalid extends Exception {

        private final boolean forbiddenPath;

        Invalid(String message) {
            this(message, false);
        }

        Invalid(String message, boolean forbiddenPath) {
            super(message, null, false, false);
            this.forbiddenPath = forbiddenPath;
        }

        /** True if the path could name something outside the source (403), else malformed (400). */
        public boolean forbiddenPath() {
            return forbiddenPath;
        }
    }
}
