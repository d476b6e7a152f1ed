package io.cachefs.cli;

import io.cachefs.admin.AdminServer;
import io.cachefs.config.MountSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The foreground daemon: starts the mounts, serves until SIGINT/SIGTERM (or until every mount is
 * unmounted from outside), then unmounts, frees memory and exits 0. The signals are handled
 * rather than left to the JVM's shutdown hooks so that a requested stop is a clean exit (0, not
 * 143) to a service manager; the hooks stay as the last resort.
 */
final class Daemon {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private final List<RunningMount> mounts = new ArrayList<>();
    private AdminServer admin;

    private Daemon() {
    }

    static int serve(List<MountSettings> settings) throws UserError, InterruptedException {
        return new Daemon().run(settings);
    }

    private int run(List<MountSettings> settings) throws UserError, InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(this::closeAll, "cachefs-shutdown"));
        for (String name : List.of("TERM", "INT")) {
            Signal.handle(new Signal(name), signal -> Thread.ofPlatform().name("cachefs-stop").start(() -> {
                LOG.info("SIG{} received: unmounting", name);
                closeAll();
            }));
        }
        try {
            for (MountSettings mount : settings) {
                RunningMount running = RunningMount.start(mount);
                synchronized (mounts) {
                    mounts.add(running);
                }
            }
            AdminServer server = AdminEndpoint.start(settings, List.copyOf(mounts));
            synchronized (mounts) {
                admin = server;
            }
            if (server != null) {
                LOG.info("metrics and status on http://{}/metrics and /status", settings.stream()
                        .map(MountSettings::adminAddress).filter(Objects::nonNull).findFirst().orElseThrow());
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
        }
    }
}
