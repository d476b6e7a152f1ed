package io.cachefs.cli;

import io.cachefs.admin.AdminServer;
import io.cachefs.cache.StoreDirectory;
import io.cachefs.config.ByteSize;
import io.cachefs.config.MountSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The foreground daemon: starts the mounts, serves until SIGINT/SIGTERM (or until every mount is
 * unmounted from outside), then unmounts, frees memory and exits 0. The signals are handled
 * rather than left to the JVM's shutdown hooks so that a requested stop is a clean exit (0, not
 * 143) to a service manager; the hooks stay as the last resort.
 */
final class Daemon {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    /** How long a stop may take, whatever the source does: a service manager's own timeout is longer. */
    private static final Duration STOP_BOUND = Duration.ofSeconds(15);

    private final List<RunningMount> mounts = new ArrayList<>();
    /** The {@code --store-dir}s of the mounts, locked while the daemon runs. */
    private final List<StoreDirectory> stores = new ArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private AdminServer admin;

    private Daemon() {
    }

    /**
     * @param force start even if the capacities add up to more than the machine's memory
     */
    static int serve(List<MountSettings> settings, boolean force) throws UserError, InterruptedException {
        if (!force) {
            checkMemory(settings);
        }
        return new Daemon().run(settings);
    }

    /** What the daemon adds to its capacities: its heap and the overflow of each mount, roughly. */
    private static final long OVERHEAD_BYTES = 320L << 20;

    private static void checkMemory(List<MountSettings> settings) throws UserError {
        long capacity = settings.stream().mapToLong(MountSettings::capacityBytes).sum();
        var memory = MachineMemory.bytes();
        if (memory.isPresent() && capacity + OVERHEAD_BYTES > memory.getAsLong()) {
            throw new UserError("a capacity of " + ByteSize.format(capacity) + " does not fit in this machine's "
                    + ByteSize.format(memory.getAsLong()) + " of memory (the daemon needs about "
                    + ByteSize.format(OVERHEAD_BYTES) + " more): lower the capacity, or add --force to start anyway");
        }
    }

    private int run(List<MountSettings> settings) throws UserError, InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(this::closeAll, "cachefs-shutdown"));
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), signal -> stop("SIG" + name));
        }
        try {
            Map<MountSettings, Path> storeDirs = lockStores(settings);
            for (MountSettings mount : settings) {
                RunningMount running = RunningMount.start(mount, storeDirs.get(mount));
                synchronized (mounts) {
                    mounts.add(running);
                }
            }
            AdminServer server = AdminEndpoint.start(settings, List.copyOf(mounts));
            synchronized (mounts) {
                admin = server;
            }
            if (server != null) {
                LOG.info("metrics and status on {}/metrics and /status", settings.stream()
                        .map(MountSettings::adminAddress).filter(Objects::nonNull).findFirst().orElseThrow().httpBase());
            }
        } catch (UserError | RuntimeException e) {
            closeAll();
            throw e;
        }
        for (RunningMount mount : List.copyOf(mounts)) {
            mount.awaitUnmount();
        }
        closeAll();
        LOG.info("every mount is gone; exiting");
        return 0;
    }

    /**
     * Locks each {@code --store-dir} for this daemon and gives each mount its directory there;
     * stores of mounts no longer served are removed.
     *
     * @throws UserError if a store directory is unusable or another daemon holds it
     */
    private Map<MountSettings, Path> lockStores(List<MountSettings> settings) throws UserError {
        Map<Path, StoreDirectory> byPath = new LinkedHashMap<>();
        Map<MountSettings, Path> storeDirs = new HashMap<>();
        for (MountSettings mount : settings) {
            if (mount.storeDir() == null) {
                continue;
            }
            StoreDirectory store = byPath.get(mount.storeDir());
            if (store == null) {
                try {
                    store = StoreDirectory.open(mount.storeDir());
                } catch (IllegalArgumentException | IllegalStateException e) {
                    throw new UserError(e.getMessage());
                }
                byPath.put(mount.storeDir(), store);
                synchronized (mounts) {
                    stores.add(store);
                }
            }
            try {
                storeDirs.put(mount, store.partition(mount.mountPoint()));
            } catch (IllegalArgumentException e) {
                throw new UserError(e.getMessage());
            }
        }
        byPath.values().forEach(StoreDirectory::removeUnclaimed);
        return storeDirs;
    }

    /**
     * The first stop signal unmounts in the background, bounded by {@link #STOP_BOUND}; a second
     * one, or the bound, ends the process at once (mounts still there are aborted by the kernel
     * when /dev/fuse closes with the process).
     */
    private void stop(String signal) {
        if (!stopping.compareAndSet(false, true)) {
            LOG.warn("{} received again: exiting now", signal);
            Runtime.getRuntime().halt(0);
        }
        LOG.info("{} received: unmounting", signal);
        Thread.ofPlatform().daemon().name("cachefs-stop-bound").start(() -> {
            try {
                Thread.sleep(STOP_BOUND);
            } catch (InterruptedException e) {
                return;
            }
            LOG.warn("still stopping after {} s: exiting now", STOP_BOUND.toSeconds());
            Runtime.getRuntime().halt(0);
        });
        Thread.ofPlatform().name("cachefs-stop").start(this::closeAll);
    }

    private void closeAll() {
        synchronized (mounts) {
            if (admin != null) {
                admin.close();
                admin = null;
            }
            for (RunningMount mount : mounts.reversed()) {
                mount.close();
            }
            mounts.clear();
            stores.forEach(StoreDirectory::close); // after the caches: they keep their files for the next daemon
            stores.clear();
        }
    }
}
