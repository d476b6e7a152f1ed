package io.cachefs.cache;

import io.cachefs.source.FileVersion;

/**
 * How a file is cut into blocks: the one place that knows block offsets and lengths.
 *
 * <p>Block {@code i} of a file of size {@code s} covers bytes {@code [i * blockSize,
 * min(s, (i + 1) * blockSize))}: every block is full except the last, which holds the rest. A
 * file of size 0 has no blocks. In a file's memory-backed file a block lives at the same offset
 * as in the source file, so no other mapping is needed.
 *
 * @param blockSize a power of two (checked by {@link CacheSettings})
 */
public record BlockLayout(int blockSize) {

    /** Linux page size on the machines we run on: the unit in which memory is held and freed. */
    static final int PAGE_SIZE = 4096;

    public BlockLayout {
        if (blockSize <= 0 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two, got " + blockSize);
        }
    }

    /** Number of blocks of a file of {@code fileSize} bytes. */
    public long blockCount(long fileSize) {
        return Math.ceilDiv(fileSize, blockSize);
    }

    /** Index of the block holding byte {@code fileOffset}. */
    public long blockIndex(long fileOffset) {
        return fileOffset / blockSize;
    }

    /** Offset of block {@code index} in the file (and in its memory-backed file). */
    public long offset(long index) {
        return index * blockSize;
    }

    /**
     * Valid length of block {@code index} of {@code file}.
     *
     * @throws IndexOutOfBoundsException if the file has no such block
     */
    public int length(FileVersion file, long index) {
        long count = blockCount(file.size());
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException(
                    "block " + index + " of " + file.path() + ": the file has " + count + " blocks");
        }
        return (int) Math.min(blockSize, file.size() - offset(index));
    }

    /**
     * Memory a block of {@code length} bytes takes in its memory file: whole pages, since the
     * kernel holds and frees memory by the page. Blocks start on page boundaries (the block
     * size is a multiple of the page size), so no page is shared by two blocks, and punching a
     * short last block must cover its whole last page to free it.
     */
    static long memoryBytes(int length) {
        return Math.ceilDiv(length, PAGE_SIZE) * (long) PAGE_SIZE;
    }
}
