/**
 * The FUSE kernel protocol on {@code /dev/fuse}, in pure Java through the FFM API, with FUSE
 * passthrough. Knows nothing of CacheFS: it serves any read-only {@link io.cachefs.fuse.FuseFilesystem}.
 *
 * <h2>Why our own</h2>
 * No Java binding offers passthrough, and passthrough is what lets the kernel read a fully cached
 * file straight from our memory-backed file at tmpfs speed (about 20 GB/s here, against about
 * 3.7 GB/s for the best READ path, measured by {@code bench/fuse-layer}). go-fuse and Rust's
 * fuser speak the protocol themselves for the same reason.
 *
 * <h2>Read path</h2>
 * <pre>
 * open(2) -> OPEN -> FuseFilesystem.open -> OpenFile
 *   backing fd given, kernel agreed at INIT, inode not page-cached by another open
 *     -> BACKING_OPEN (once per inode while it has passthrough opens) + FOPEN_PASSTHROUGH:
 *        the kernel reads the backing file itself; no READ ever reaches us
 *   otherwise -> READ requests of up to 1 MiB (max_pages 256, bdi readahead raised):
 *        Worker reads the request into its own buffer, FuseFilesystem.read adds segments of
 *        the filesystem's memory to a ReadReply (with what pins them), one writev(header +
 *        segments) sends them, then the pins are closed: the kernel copies the bytes once,
 *        nothing is allocated per request
 * </pre>
 *
 * <h2>Threading</h2>
 * The {@code WorkerPool} keeps {@link io.cachefs.fuse.MountOptions#workers()} platform threads
 * blocked in {@code read(2)} on the device and starts more while all are busy (up to
 * {@code maxWorkers}), so a request waiting on a slow source holds only its own worker and never
 * keeps another waiting; an INTERRUPT interrupts the worker serving its request
 * ({@code RequestsInProgress}). Each worker owns its buffers. The {@code NodeTable} maps kernel
 * node ids to the filesystem's keys and counts the kernel's references (lookups, readdirplus
 * entries, forgets), and the session's {@code opens} map the kernel's file handles to the
 * filesystem's handle and io mode; both are {@code SlotTable}s, read without locks on the hot
 * path.
 * Invalidation notices go out from a thread of their own, so that no request ever waits for one
 * (the kernel takes directory locks while handling them). The mount ends on {@code close()}, on
 * SIGTERM/SIGINT (a shutdown hook) or on an external umount, which the workers see as ENODEV.
 *
 * <h2>Layout</h2>
 * Struct layouts, opcodes and flags live in {@code FuseAbi} only; libc calls in {@code io.cachefs.linux.Libc}
 * only. The filesystem decides the errno of what it serves by throwing a
 * {@link io.cachefs.fuse.FuseException}; {@code Worker} answers it, and decides the errno of what
 * this layer serves itself: EROFS for every writing opcode, ESTALE for a node id the kernel no
 * longer holds, EBADF for an unknown handle, ENOSYS for what is not implemented, and EIO (logged)
 * for anything unexpected.
 */
package io.cachefs.fuse;
