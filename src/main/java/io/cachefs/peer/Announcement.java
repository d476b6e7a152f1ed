package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.cachefs.source.FileVersion;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * One line of an announcement ({@code POST /v1/holdings}, {@link WireFormat}): the sender holds
 * exactly {@code blocks} of {@code file}, cut in blocks of {@code blockSize}, and knows the
 * CRC32C of {@code digests} of them first-hand ({@link KnownDigests}).
 *
 * @param digests only of blocks in {@code blocks}
 */
record Announcement(FileVersion file, int blockSize, BitSet blocks, BlockDigests digests) {

    Announcement {
        if (!digests.isEmpty()) {
            BitSet outside = digests.blocks();
            outside.andNot(blocks);
            if (!outside.isEmpty()) {
                throw new IllegalArgumentException("digests of blocks not held: " + outside);
            }
        }
    }

    /** An announcement without digests, as members that predate them send. */
    Announcement(FileVersion file, int blockSize, BitSet blocks) {
        this(file, blockSize, blocks, BlockDigests.NONE);
    }

    String line() {
        return URLEncoder.encode(file.path(), UTF_8) + ' ' + file.size() + ' ' + file.mtimeNanos() + ' '
                + (file.tag().isEmpty() ? "-" : URLEncoder.encode(file.tag(), UTF_8)) + ' ' + blockSize + ' '
                + (blocks.isEmpty() ? "-" : Holdings.encodeBlocks(blocks)) + ' ' + digests.encode() + '\n';
    }

    /**
     * The lines of an announcement's body.
     *
     * A line has 7 fields, or 6 from a member that predates digests (none known).
     *
     * @throws BlockRequest.Invalid naming the first line that does not parse, or a path that
     *     could lead outside the source, or digests of blocks the line does not hold
     */
    static List<Announcement> parse(String body) throws BlockRequest.Invalid {
        List<Announcement> lines = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.strip().split(" ");
            if (fields.length != 6 && fields.length != 7) {
                throw new BlockRequest.Invalid("an announcement line has " + fields.length + " fields, not 7");
            }
            try {
                String path = URLDecoder.decode(fields[0], UTF_8);
                String problem = BlockRequest.pathProblem(path);
                if (problem != null) {
                    throw new BlockRequest.Invalid(problem, true);
                }
                long size = BlockRequest.number(WireFormat.SIZE, fields[1]);
                long mtime = BlockRequest.number(WireFormat.MTIME, fields[2]);
                String tag = fields[3].equals("-") ? "" : URLDecoder.decode(fields[3], UTF_8);
                long blockSize = BlockRequest.number(WireFormat.BLOCK_SIZE, fields[4]);
                if (blockSize == 0 || blockSize > Integer.MAX_VALUE) {
                    throw new BlockRequest.Invalid("block_size out of range");
                }
                BitSet blocks = fields[5].equals("-") ? new BitSet() : Holdings.decodeBlocks(fields[5]);
                BlockDigests digests = fields.length == 7 ? BlockDigests.decode(fields[6]) : BlockDigests.NONE;
                lines.add(new Announcement(new FileVersion(path, size, mtime, tag), (int) blockSize, blocks,
                        digests));
            } catch (IllegalArgumentException e) {
                throw new BlockRequest.Invalid("an announcement line does not parse: " + e.getMessage());
            }
        }
        return lines;
    }
}
