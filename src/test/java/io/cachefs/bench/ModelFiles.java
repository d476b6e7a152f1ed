package io.cachefs.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes the files bench/run reads: {@code model.bin}, incompressible bytes, and
 * {@code model.safetensors}, a file in the safetensors layout with F16 tensors of varied sizes, so
 * that the mmap loader ({@link SafetensorsLoad}) walks a realistic header.
 *
 * <pre>
 *   0        8                      8+n (a multiple of 8)
 *   +--------+----------------------+------------------------------------------+
 *   | n (LE) | JSON header, padded  | tensor bytes, in header order, no gaps    |
 *   +--------+----------------------+------------------------------------------+
 *   header: {"__metadata__": {...}, "name": {"dtype":"F16","shape":[..],"data_offsets":[b,e]}, ...}
 *   data_offsets are relative to the first tensor byte.
 * </pre>
 *
 * <p>Usage: {@code ModelFiles DIR [BIN_MIB (2048)] [SAFETENSORS_MIB (1024)] [TENSORS (160)]}. The bytes
 * come from a seeded xorshift, so every run reads the same files, and no layer can compress them.
 */
public final class ModelFiles {
    private static final int CHUNK = 8 << 20;

    private ModelFiles() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: ModelFiles DIR [BIN_MIB] [SAFETENSORS_MIB] [TENSORS]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        long binBytes = (args.length > 1 ? Long.parseLong(args[1]) : 2048) << 20;
        long safetensorsBytes = (args.length > 2 ? Long.parseLong(args[2]) : 1024) << 20;
        int tensors = args.length > 3 ? Integer.parseInt(args[3]) : 160;
        var bytes = new Xorshift(0x5eed_cafe_f00dL);
        try (var out = FileChannel.open(dir.resolve("model.bin"), StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            bytes.write(out, binBytes);
        }
        writeSafetensors(dir.resolve("model.safetensors"), safetensorsBytes, tensors, bytes);
    }

    private static void writeSafetensors(Path file, long dataBytes, int count, Xorshift bytes) throws IOException {
        List<Long> sizes = tensorSizes(dataBytes, count, new SplittableRandom(42));
        var mapper = new ObjectMapper();
        ObjectNode header = mapper.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        int layer = 0;
        for (int i = 0; i < sizes.size(); i++) {
            long size = sizes.get(i);
            ObjectNode tensor = header.putObject(tensorName(i, layer));
            if (i % 8 == 7) {
                layer++;
            }
            tensor.put("dtype", "F16");
            var shape = tensor.putArray("shape");
            long elements = size / 2;
            if (elements % 4096 == 0 && elements > 4096) {
                shape.add(elements / 4096).add(4096);
            } else {
                shape.add(elements);
            }
            tensor.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] json = mapper.writeValueAsBytes(header);
        int padded = (json.length + 7) & ~7;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(json);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        prefix.flip();
        try (var out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (prefix.hasRemaining()) {
                out.write(prefix);
            }
            bytes.write(out, offset);
        }
        System.err.printf("bench: %s: %d tensors, header %d bytes, %d data bytes%n", file.getFileName(), sizes.size(),
                padded, offset);
    }

    private static String tensorName(int i, int layer) {
        String[] parts = {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
                "input_layernorm.weight"};
        return "model.layers." + layer + "." + parts[i % parts.length];
    }

    /**
     * Sizes spread over three orders of magnitude (log-uniform 8 KiB to 32 MiB, every 8th a small
     * norm vector), scaled to sum to about {@code total}; each a multiple of 8 KiB (4096 F16 values).
     */
    static List<Long> tensorSizes(long total, int count, SplittableRandom random) {
        double[] weights = new double[count];
        double sum = 0;
        for (int i = 0; i < count; i++) {
            weights[i] = i % 8 == 7 ? Math.exp(Math.log(8 << 10) + random.nextDouble() * 2)
                    : Math.exp(Math.log(8 << 10) + random.nextDouble() * Math.log(4096));
            sum += weights[i];
        }
        List<Long> sizes = new ArrayList<>(count);
        long unit = 8 << 10;
        for (double weight : weights) {
            sizes.add(Math.max(unit, Math.round(weight / sum * total / unit) * unit));
        }
        return sizes;
    }

    /** xorshift64*: fast enough to write GiB in seconds, and incompressible. */
    private static final class Xorshift {
        private long state;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);

        Xorshift(long seed) {
            state = seed;
        }

        void write(FileChannel out, long count) throws IOException {
            long left = count;
            while (left > 0) {
                buffer.clear();
                while (buffer.hasRemaining()) {
                    state ^= state >>> 12;
                    state ^= state << 25;
                    state ^= state >>> 27;
                    buffer.putLong(state * 0x2545F4914F6CDD1DL);
                }
                buffer.flip().limit((int) Math.min(CHUNK, left));
                while (buffer.hasRemaining()) {
                    left -= out.write(buffer);
                }
            }
        }
    }
}
