package io.cachefs.admin;

import java.util.List;

/**
 * How a mount's preload ({@code --preload GLOB}, {@code cache.preload}) is going.
 *
 * @param state {@code none} (nothing asked), {@code running}, {@code done} (every file held
 *     whole), {@code failed} (some file not: see the log), {@code stopped} (the daemon stopped first)
 * @param globs what was asked
 * @param files files matched
 * @param filesDone files finished (held, failed or found held already)
 * @param failedFiles files that could not be loaded
 * @param totalBytes their size
 * @param doneBytes bytes held so far
 * @param memoryBytes of those, found in memory already
 * @param peerBytes ... fetched from peers
 * @param sourceBytes ... read from the source
 */
public record PreloadStatus(String state, List<String> globs, int files, int filesDone, int failedFiles,
                            long totalBytes, long doneBytes, long memoryBytes, long peerBytes, long sourceBytes) {
    public static final PreloadStatus NONE = new PreloadStatus("none", List.of(), 0, 0, 0, 0, 0, 0, 0, 0);

    public PreloadStatus {
        globs = List.copyOf(globs);
    }
}
