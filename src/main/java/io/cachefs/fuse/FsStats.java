package io.cachefs.fuse;

/** What {@code statfs(2)} reports; sizes are in units of {@code blockSize}. */
public record FsStats(long blocks, long blocksFree, long blocksAvailable, long files, long filesFree,
                      int blockSize, int maxNameLength) {
    public static final FsStats EMPTY = new FsStats(0, 0, 0, 0, 0, 4096, 255);
}
