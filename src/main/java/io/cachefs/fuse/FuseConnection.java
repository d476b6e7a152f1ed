package io.cachefs.fuse;

/**
 * What the kernel and the layer agreed on in INIT.
 *
 * @param major         protocol major version (7)
 * @param minor         protocol minor version the kernel offered (45 on kernel 6.18)
 * @param maxRead       the largest READ request the kernel will send
 * @param passthrough   whether the kernel accepted FUSE passthrough for this mount; opens may
 *                      still be refused a backing file later (then they are served by READ)
 * @param directIoMmap  whether files opened with direct I/O can still be mapped (kernel 6.6+,
 *                      FUSE_DIRECT_IO_ALLOW_MMAP): without it a direct-I/O file's mmap fails
 */
public record FuseConnection(int major, int minor, int maxRead, boolean passthrough, boolean directIoMmap) {
}
