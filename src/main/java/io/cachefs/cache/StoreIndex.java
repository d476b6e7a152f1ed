package io.cachefs.cache;

import io.cachefs.linux.Libc;
import io.cachefs.source.FileVersion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * The index beside one version's block file in a store directory: which version the block file
 * holds, and which of its blocks are complete, each with the CRC32C of its bytes. A daemon
 * started again reads it to adopt the blocks (see {@link StoreAdoption}); nothing else reads it.
 *
 * <h2>Layout</h2>
 * Little-endian. A header, then one fixed slot per block of the file, so that recording or
 * forgetting a block is one 16-byte {@code pwrite} in place and the file never grows (about
 * 4 KiB per GiB cached):
 * <pre>
 *  0       8        12       16          24     32      40      42      42+P    44+P    44+P+T
 *  +-------+--------+--------+-----------+------+-------+-------+-------+-------+-------+---------+
 *  | magic | header | block  | file id   | size | mtime | path  | path  | tag   | tag   | CRC32C  |
 *  |       | length | size   | (random)  |      | (ns)  | len P | UTF-8 | len T | ASCII | of all  |
 *  +-------+--------+--------+-----------+------+-------+-------+-------+-------+-------+---------+
 *  slot i at roundUp(header length, 16) + 16 i:
 *  +----------------------+-----------------------+------------------------------------------+
 *  | sequence (u64)       | CRC32C of the block's | CRC32C of (file id, i, sequence, block   |
 *  | 0: no block recorded | bytes (u32)           | CRC): a torn or misplaced slot fails it  |
 *  +----------------------+-----------------------+------------------------------------------+
 * </pre>
 * The sequence orders every record of the store directory in time, so the adoption keeps the
 * most recently loaded blocks when the capacity is smaller than what the store holds.
 *
 * <h2>Crash consistency</h2>
 * A slot is written only once its block's bytes are complete in the block file (after the load,
 * before the block is published), and cleared before its range is punched (eviction, a failed or
 * abandoned load), so a slot that verifies names a block whose bytes were completely written.
 * A slot that does not verify (a torn write, a stray byte) names nothing; a header that does not
 * verify makes the whole file unusable. And the adoption checks every block's bytes against its
 * CRC before serving it, so even a lie in the index costs a source read, never a wrong byte.
 *
 * <p>Thread safety: {@link #record} and {@link #clear} may run concurrently for distinct blocks;
 * the cache orders the two for one block (the block is loading, then present, then released).
 */
final class StoreIndex implements AutoCloseable {

    static final String SUFFIX = ".index";
    private static final long MAGIC = 0x3158444e49534643L; // "CFSINDX1" read little-endian
    /** The header without path and tag: magic, lengths, block size, id, size, mtime, CRC. */
    private static final int FIXED_HEADER = 48;
    static final int SLOT_BYTES = 16;

    /** One block the index says is complete. */
    record Claim(long index, long sequence, int crc) {}

    /** What an index file says, read back: its version, block size and the blocks it claims. */
    record Contents(FileVersion file, int blockSize, long fileId, long slotsAt, List<Claim> claims) {
        long maxSequence() {
            long max = 0;
            for (Claim claim : claims) {
                max = Math.max(max, claim.sequence());
            }
            return max;
        }
    }

    private final int fd;
    private final long fileId;
    private final long slotsAt;

    private StoreIndex(int fd, long fileId, long slotsAt) {
        this.fd = fd;
        this.fileId = fileId;
        this.slotsAt = slotsAt;
    }

    /** Creates the index of an empty block file of {@code file} at {@code path}, which must not exist. */
    static StoreIndex create(Path path, FileVersion file, int blockSize, long blockCount) throws IOException {
        long fileId = ThreadLocalRandom.current().nextLong();
        byte[] header = header(file, blockSize, fileId);
        int fd = Libc.createExclusive(path);
        try (Arena arena = Arena.ofConfined()) {
            Libc.pwrite(fd, arena.allocateFrom(ValueLayout.JAVA_BYTE, header), 0);
            long slotsAt = slotsAt(header.length);
            Libc.ftruncate(fd, slotsAt + blockCount * SLOT_BYTES); // slots of zeros: nothing recorded
            return new StoreIndex(fd, fileId, slotsAt);
        } catch (IOException | RuntimeException e) {
            Libc.close(fd);
            Files.deleteIfExists(path);
            throw e;
        }
    }

    /** Opens an index read earlier, to go on recording into it. */
    static StoreIndex open(Path path, Contents contents) throws IOException {
        return new StoreIndex(Libc.openReadWrite(path), contents.fileId(), contents.slotsAt());
    }

    /**
     * Reads an index: its header, and the slots that verify (others, and slots past the end of a
     * truncated file, claim nothing).
     *
     * @throws IOException if the file cannot be read or its header does not verify, with why
     */
    static Contents read(Path path) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.remaining() < FIXED_HEADER || bytes.getLong(0) != MAGIC) {
            throw new IOException("not a cachefs index");
        }
        int headerLength = bytes.getInt(8);
        if (headerLength < FIXED_HEADER || headerLength > bytes.remaining()) {
            throw new IOException("truncated header");
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, headerLength - 4);
        if ((int) crc.getValue() != bytes.getInt(headerLength - 4)) {
            throw new IOException("header checksum mismatch");
        }
        FileVersion file;
        int blockSize = bytes.getInt(12);
        long fileId = bytes.getLong(16);
        try {
            bytes.position(40);
            String filePath = string(bytes, headerLength);
            String tag = string(bytes, headerLength);
            file = new FileVersion(filePath, bytes.getLong(24), bytes.getLong(32), tag);
        } catch (RuntimeException e) {
            throw new IOException("malformed header: " + e.getMessage());
        }
        long slotsAt = slotsAt(headerLength);
        List<Claim> claims = new ArrayList<>();
        for (long index = 0; slotsAt + (index + 1) * SLOT_BYTES <= bytes.limit(); index++) {
            int at = (int) (slotsAt + index * SLOT_BYTES);
            long sequence = bytes.getLong(at);
            int blockCrc = bytes.getInt(at + 8);
            if (sequence > 0 && bytes.getInt(at + 12) == slotCrc(fileId, index, sequence, blockCrc)) {
                claims.add(new Claim(index, sequence, blockCrc));
            }
        }
        return new Contents(file, blockSize, fileId, slotsAt, claims);
    }

    /** Records block {@code index} as complete, with the CRC32C of its bytes; only once they are. */
    void record(long index, long sequence, int blockCrc) throws IOException {
        writeSlot(index, sequence, blockCrc, slotCrc(fileId, index, sequence, blockCrc));
    }

    /** Forgets block {@code index}; before its range is punched or written again. */
    void clear(long index) throws IOException {
        writeSlot(index, 0, 0, 0);
    }

    private void writeSlot(long index, long sequence, int blockCrc, int slotCrc) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(SLOT_BYTES);
            slot.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, sequence);
            slot.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8, blockCrc);
            slot.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 12, slotCrc);
            Libc.pwrite(fd, slot, slotsAt + index * SLOT_BYTES);
        }
    }

    @Override
    public void close() throws IOException {
        Libc.close(fd);
    }

    private static byte[] header(FileVersion file, int blockSize, long fileId) {
        byte[] path = file.path().getBytes(StandardCharsets.UTF_8);
        byte[] tag = file.tag().getBytes(StandardCharsets.US_ASCII);
        int length = FIXED_HEADER + path.length + tag.length;
        ByteBuffer header = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(MAGIC).putInt(length).putInt(blockSize).putLong(fileId).putLong(file.size())
                .putLong(file.mtimeNanos());
        header.putShort((short) path.length).put(path).putShort((short) tag.length).put(tag);
        CRC32C crc = new CRC32C();
        crc.update(header.array(), 0, length - 4);
        header.putInt((int) crc.getValue());
        return header.array();
    }

    private static String string(ByteBuffer bytes, int headerLength) {
        int length = Short.toUnsignedInt(bytes.getShort());
        if (bytes.position() + length > headerLength - 4) {
            throw new IllegalArgumentException("a string runs past the header");
        }
        byte[] value = new byte[length];
        bytes.get(value);
        return new String(value, StandardCharsets.UTF_8);
    }

    private static long slotsAt(int headerLength) {
        return (headerLength + SLOT_BYTES - 1L) / SLOT_BYTES * SLOT_BYTES;
    }

    private static int slotCrc(long fileId, long index, long sequence, int blockCrc) {
        ByteBuffer slot = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
        slot.putLong(fileId).putLong(index).putLong(sequence).putInt(blockCrc);
        CRC32C crc = new CRC32C();
        crc.update(slot.array());
        return (int) crc.getValue();
    }
}
