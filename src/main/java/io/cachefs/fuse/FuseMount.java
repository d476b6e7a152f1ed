package io.cachefs.fuse;

import io.cachefs.linux.Libc;

import io.cachefs.linux.Errno;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.time.Duration;
import java.util.concurrent.ExecutionException;

/**
 * A live FUSE mount of a {@link FuseFilesystem}: mounting, the worker threads, invalidation
 * notices, and unmounting.
 *
 * <p>Lifecycle: {@link #mount} checks the target (clearing a stale mount left by a killed daemon),
 * opens {@code /dev/fuse}, calls mount(2) read-only, starts the workers and returns once INIT is
 * answered. The mount ends by {@link #close()} (also run by a shutdown hook on SIGTERM/SIGINT), or
 * by an external {@code umount}, which the workers see as ENODEV; {@link #awaitUnmount()} returns
 * in both cases.
 */
public final class FuseMount<K> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FuseMount.class);
    private static final long INIT_TIMEOUT_SECONDS = 10;
    private static final long UNMOUNT_GRACE_SECONDS = 5;

    private final MountTarget target;
    private final FuseSession<K> session;
    private final Notifier notifier;
    private final WorkerPool workers;
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    /** Set once an unmount was asked for: the workers' end is then no surprise. */
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean closedOnce = new AtomicBoolean();
    private final Thread shutdownHook;
    private volatile long device;

    private FuseMount(MountTarget target, FuseSession<K> session) {
        this.target = target;
        this.session = session;
        this.notifier = new Notifier(session.fd, "fuse-notify " + target.pathString);
        this.workers = new WorkerPool(session.options.workers(), session.options.maxWorkers(), this::startWorker);
        this.shutdownHook = new Thread(this::close, "fuse-unmount " + target.pathString);
    }

    /**
     * Mounts {@code fs} read-only on {@code mountPoint} and returns once the kernel is ready to
     * send requests.
     *
     * @throws FuseMountException with a message that says what to do (no /dev/fuse, not root,
     *                            mount point missing or already mounted, mount refused)
     */
    public static <K> FuseMount<K> mount(Path mountPoint, FuseFilesystem<K> fs, MountOptions options)
            throws FuseMountException {
        MountTarget target = new MountTarget(mountPoint);
        target.check();
        int fd;
        if (!MountTarget.privileged()) {
            // The kernel lets only CAP_SYS_ADMIN register passthrough backing files.
            LOG.info("mounting {} as uid {} through fusermount3: passthrough is off (the kernel lets only root "
                    + "hand it backing files); fully cached files are served by READ", target.pathString, Libc.geteuid());
            options = options.withPassthrough(false);
            fd = Fusermount.mount(target, options);
        } else {
            fd = mountAsRoot(target, options);
        }
        FuseMount<K> mount = new FuseMount<>(target, new FuseSession<>(fd, fs, options, target.pathString));
        mount.start();
        return mount;
    }

    private static int mountAsRoot(MountTarget target, MountOptions options) throws FuseMountException {
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Libc.newCapture(arena);
            fd = Libc.open(capture, "/dev/fuse", Libc.O_RDWR | Libc.O_CLOEXEC);
            if (fd < 0) {
                throw new FuseMountException("cannot open /dev/fuse (errno " + Libc.errno(capture)
                        + "): run as root on a machine with FUSE");
            }
            String data = "fd=" + fd + ",rootmode=40000,user_id=0,group_id=0,default_permissions"
                    + (options.allowOther() ? ",allow_other" : "");
            long flags = Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_RDONLY;
            if (Libc.mount(capture, options.fsName(), target.pathString, "fuse." + options.subtype(), flags, data) != 0) {
                int errno = Libc.errno(capture);
                Libc.close(capture, fd);
                throw new FuseMountException("mounting " + target.pathString + " failed: " + switch (errno) {
                    case Errno.EPERM -> "not permitted (needs CAP_SYS_ADMIN: run as root)";
                    case Errno.ENODEV -> "the kernel has no FUSE support (modprobe fuse)";
                    case Errno.EBUSY -> "the mount point is busy";
                    default -> "errno " + errno;
                });
            }
        }
        return fd;
    }

    private void start() throws FuseMountException {
        workers.start();
        try {
            if (!session.initialized.await(INIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                close();
                throw new FuseMountException("the kernel did not complete FUSE INIT on " + target.pathString
                        + " within " + INIT_TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new FuseMountException("interrupted while mounting " + target.pathString);
        }
        try {
            device = (long) Files.getAttribute(target.path, "unix:dev");
            if (session.options.readAheadKb() > 0 && MountTarget.privileged()) {
                MountTarget.setReadAhead(device, session.options.readAheadKb());
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not stat the new mount {}: {}", target.pathString, e.toString());
        }
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        LOG.info("mounted {} (FUSE {}.{}, passthrough {})", target.pathString, session.connection().major(),
                session.connection().minor(), session.connection().passthrough() ? "on" : "off");
    }

    private Thread startWorker(int n) {
        return Thread.ofPlatform().daemon().name("fuse-" + n).start(new Worker<>(session, workers, this::lastWorkerExited));
    }

    private void lastWorkerExited() {
        if (!closing.get()) {
            LOG.warn("{} was unmounted from outside", target.pathString);
        }
        notifier.close();
        try (Arena arena = Arena.ofConfined()) {
            Libc.close(Libc.newCapture(arena), session.fd);
        }
        try {
            session.fs.destroy();
        } catch (RuntimeException e) {
            LOG.error("filesystem destroy failed", e);
        } finally {
            ended.complete(null);
        }
    }

    public Path mountPoint() {
        return target.path;
    }

    /** What the kernel agreed on at INIT (passthrough or not, request sizes). */
    public FuseConnection connection() {
        return session.connection();
    }

    /**
     * Makes the kernel drop what it cached of {@code node} (attributes and pages), so the next
     * access asks the filesystem. Returns when the notice was delivered; a node the kernel does
     * not know needs none.
     */
    public CompletableFuture<Void> invalidate(K node) {
        long id = session.nodes.idOf(node);
        return id == 0 ? CompletableFuture.completedFuture(null) : notifier.invalidateInode(id);
    }

    /** Makes the kernel forget the name {@code name} in directory {@code parent} (e.g. a deleted file). */
    public CompletableFuture<Void> invalidateEntry(K parent, String name) {
        long id = session.nodes.idOf(parent);
        return id == 0 ? CompletableFuture.completedFuture(null) : notifier.invalidateEntry(id, name);
    }

    /** Blocks until the mount has ended, by {@link #close()} or by an unmount from outside. */
    public void awaitUnmount() throws InterruptedException {
        try {
            ended.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean isMounted() {
        return !ended.isDone();
    }

    /** The request workers now. */
    public WorkerStats workerStats() {
        return workers.stats();
    }

    /** Kernel node ids currently held for the filesystem's keys (for tests and metrics). */
    int knownNodes() {
        return session.nodes.size();
    }

    /**
     * Starts unmounting (lazily if files are still open) and waits up to {@code grace} for the
     * kernel to let go. Returns whether the mount ended; if not, requests are still in progress
     * (users still open, or workers waiting on something slow), and {@link #close()} ends it.
     */
    public boolean unmount(Duration grace) {
        if (ended.isDone()) {
            return true;
        }
        closing.set(true);
        target.unmount();
        try {
            ended.get(grace.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Unmounts and waits for the workers. Open files make the unmount lazy; if they are still open
     * after a grace period the connection is aborted, so closing never hangs: after the abort it
     * waits another grace period at most, and a worker still stuck in the filesystem then is left
     * behind (it can no longer reach the kernel).
     */
    @Override
    public void close() {
        if (!closedOnce.compareAndSet(false, true)) {
            ended.orTimeout(2 * UNMOUNT_GRACE_SECONDS, TimeUnit.SECONDS).exceptionally(t -> null).join();
            return;
        }
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // shutting down already, or the hook was never added (INIT failed)
            }
        }
        if (ended.isDone()) {
            return;
        }
        if (!unmount(Duration.ofSeconds(UNMOUNT_GRACE_SECONDS))) {
            LOG.warn("{} still has requests in progress after {} s: aborting its FUSE connection", target.pathString,
                    UNMOUNT_GRACE_SECONDS);
            if (device != 0) {
                MountTarget.abortConnection(device);
            }
            try {
                ended.get(UNMOUNT_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                LOG.warn("{}: {} workers are still stuck in the filesystem; leaving them behind", target.pathString,
                        workers.stats().running());
                ended.complete(null); // the mount is gone for the kernel; the last worker closes /dev/fuse
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
        }
        LOG.info("unmounted {}", target.pathString);
    }
}
