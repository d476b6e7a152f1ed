package io.cachefs.admin;

import java.util.List;

/**
 * What one mount holds, file by file, as far as {@code /status} reports it.
 *
 * @param wholeFiles file versions with every block in memory
 * @param partFiles file versions with some but not all blocks in memory
 * @param biggest the largest files held whole, largest first (a few, not all)
 */
public record MountContents(int wholeFiles, int partFiles, List<CachedFile> biggest) {
    /** Nothing known. */
    public static final MountContents NONE = new MountContents(0, 0, List.of());

    public MountContents {
        biggest = List.copyOf(biggest);
    }

    /**
     * A file held whole.
     *
     * @param path relative to the mount
     * @param sizeBytes the file's length
     * @param memoryBytes the memory its blocks take (whole pages)
     */
    public record CachedFile(String path, long sizeBytes, long memoryBytes) {
    }
}
