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
 * exactly {@code blocks} of {@code file}, cut in blocks of {@code blockSize}.
 */
record Announcement(FileVersion file, int blockSize, BitSet blocks) {

    String line() {
        return URLEncoder.encode(file.path(), UTF_8) + ' ' + file.size() + ' ' + file.mtimeNanos() + ' '
                + (file.tag().isEmpty() ? "-" : URLEncoder.encode(file.tag(), UTF_8)) + ' ' + blockSize + ' '
                + (blocks.isEmpty() ? "-" : Holdings.encodeBlocks(blocks)) + '\n';
    }

    /**
     * The lines of an announcement's body.
     *
     * @throws BlockRequest.Invalid naming the first line that does not parse, or a path that
     *     could lead outside the source
     */
    static List<Announcement> parse(String body) throws BlockRequest.Invalid {
        List<Announcement> lines = new ArrayList<>();
        for (String line : body.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.strip().split(" ");
            if (fields.length != 6) {
                throw new BlockRequest.Invalid("an announcement line has " + fields.length + " fields, not 6");
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
                lines.add(new Announcement(new FileVersion(path, size, mtime, tag), (int) blockSize, blocks));
            } catch (IllegalArgumentException e) {
                throw new BlockRequest.Invalid("an announcement line does not parse: " + e.getMessage());
            }
        }
        return lines;
    }
}
