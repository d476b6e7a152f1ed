package io.cachefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Loads a safetensors file the way mmap-based model loaders do: map the whole file read-only
 * (MAP_SHARED), parse the JSON header from the mapping, then touch every tensor in header order,
 * one long per 4 KiB page, so that every page is faulted in once. Prints
 * {@code BYTES SECONDS CHECKSUM TENSORS}: BYTES is the file size, SECONDS runs from open to unmap,
 * CHECKSUM (a sum of the longs read) must be the same on every path that serves the same file.
 */
public final class SafetensorsLoad {
    private static final long PAGE = 4096;

    private SafetensorsLoad() {
    }

    public static void main(String[] args) throws IOException {
        // Jackson's first parse loads and links its classes (~0.2 s), and the first open and map
        // NIO's: costs of this JVM, not of the file system, so they are paid before the clock starts.
        var mapper = new ObjectMapper();
        mapper.readTree("{\"t\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}").properties();
        FileIoWarmUp.run();
        long start = System.nanoTime();
        long size;
        long checksum = 0;
        int tensors = 0;
        try (var channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.READ);
             var arena = Arena.ofConfined()) {
            size = channel.size();
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = file.get(JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            byte[] json = file.asSlice(8, headerLength).toArray(JAVA_BYTE);
            long dataStart = 8 + headerLength;
            JsonNode header = mapper.readTree(json);
            for (Map.Entry<String, JsonNode> tensor : header.properties()) {
                if (tensor.getKey().equals("__metadata__")) {
                    continue;
                }
                JsonNode offsets = tensor.getValue().get("data_offsets");
                long begin = dataStart + offsets.get(0).asLong();
                long end = dataStart + offsets.get(1).asLong();
                for (long page = begin; page < end; page += PAGE) {
                    checksum += file.get(JAVA_LONG_UNALIGNED, Math.min(page, end - 8));
                }
                tensors++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%d %.6f %016x %d%n", size, seconds, checksum, tensors);
    }
}
