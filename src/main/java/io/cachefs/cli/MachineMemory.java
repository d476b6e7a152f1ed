package io.cachefs.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * How much memory this machine gives the daemon: the total RAM, or the container's limit where
 * it is lower (cgroup v2 {@code memory.max}, v1 {@code memory.limit_in_bytes}), since that is
 * where an over-sized cache gets the process OOM-killed.
 */
final class MachineMemory {
    private MachineMemory() {
    }

    /** The bytes available to this process, or empty if the machine does not say. */
    static OptionalLong bytes() {
        OptionalLong total = memTotal();
        OptionalLong limit = cgroupLimit();
        if (total.isEmpty()) {
            return limit;
        }
        return limit.isPresent() && limit.getAsLong() < total.getAsLong() ? limit : total;
    }

    private static OptionalLong memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or an unusual /proc: no check
        }
        return OptionalLong.empty();
    }

    private static OptionalLong cgroupLimit() {
        for (Path file : new Path[] {Path.of("/sys/fs/cgroup/memory.max"),
                Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes")}) {
            try {
                String text = Files.readString(file).strip();
                if (!text.equals("max")) {
                    long bytes = Long.parseLong(text);
                    if (bytes > 0 && bytes < Long.MAX_VALUE / 2) { // v1 says "no limit" with a huge number
                        return OptionalLong.of(bytes);
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // no such cgroup file here
            }
        }
        return OptionalLong.empty();
    }
}
