package io.cachefs.peer;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Gets the JIT to compile CRC32C over direct buffers while the daemon starts, not during its first
 * peer transfer. Until {@code CRC32C.update(ByteBuffer)} is compiled, its checksum runs as
 * interpreted Java at about 100 MB/s instead of the CPU's crc32 instructions at many GB/s; a
 * fresh instance is exactly the one that fetches a whole model from its peers at once, and on a
 * busy machine the compiler threads may take seconds to get to it. A few thousand small calls on
 * a background thread at start cost milliseconds.
 */
final class ChecksumWarmUp {

    /** Past the JIT's thresholds for a compiled, intrinsified method (C1 at 200 calls, C2 at a few thousand). */
    private static final int CALLS = 20_000;
    private static volatile boolean started;

    private ChecksumWarmUp() {
    }

    /** Starts the warm-up once per process, in the background. */
    static void start() {
        if (started) {
            return;
        }
        started = true;
        Thread.ofPlatform().daemon().name("cachefs-checksum-warm-up").priority(Thread.MIN_PRIORITY).start(() -> {
            ByteBuffer bytes = ByteBuffer.allocateDirect(4096);
            CRC32C crc = new CRC32C();
            for (int i = 0; i < CALLS; i++) {
                crc.update(bytes.clear());
            }
        });
    }
}
