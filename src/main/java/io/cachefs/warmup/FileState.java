package io.cachefs.warmup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;

/**
 * What the daemon says about one file through its {@code user.cachefs} extended attribute.
 *
 * @param whole every block is in memory
 * @param memory bytes the file's open handles were served from memory
 * @param peer ... that came from a peer's memory
 * @param source ... that came from the source
 */
public record FileState(boolean whole, long memory, long peer, long source) {
    /** The attribute's name without the {@code user.} namespace, as Java's view wants it. */
    private static final String NAME = "cachefs";

    /**
     * Asks the daemon about {@code file}.
     *
     * @throws IOException if the file is gone, or is not served by cachefs (no such attribute)
     */
    public static FileState of(Path file) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
        ByteBuffer value = ByteBuffer.allocate(128);
        int length = view.read(NAME, value);
        return parse(new String(value.array(), 0, length, StandardCharsets.US_ASCII));
    }

    /** Parses {@code whole=1 memory=N peer=N source=N}; fields it does not know are skipped. */
    static FileState parse(String text) throws IOException {
        boolean whole = false;
        long memory = 0;
        long peer = 0;
        long source = 0;
        for (String field : text.strip().split(" +")) {
            int equals = field.indexOf('=');
            if (equals < 0) {
                throw new IOException("the daemon's user.cachefs attribute is not key=value: " + text);
            }
            String value = field.substring(equals + 1);
            try {
                switch (field.substring(0, equals)) {
                    case "whole" -> whole = value.equals("1");
                    case "memory" -> memory = Long.parseLong(value);
                    case "peer" -> peer = Long.parseLong(value);
                    case "source" -> source = Long.parseLong(value);
                    default -> {
                        // a newer daemon may say more
                    }
                }
            } catch (NumberFormatException e) {
                throw new IOException("the daemon's user.cachefs attribute has a bad number: " + text);
            }
        }
        return new FileState(whole, memory, peer, source);
    }
}
