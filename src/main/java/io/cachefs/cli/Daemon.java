package io.cachefs.cli;

import io.cachefs.config.MountSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The foreground daemon: starts the mounts, serves until SIGINT/SIGTERM (or until every mount is
 * unmounted from outside), then unmounts and frees memory.
 */
final class Daemon {
    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private Daemon() {
    }

    static int serve(List<MountSettings> settings) throws UserError, InterruptedException {
        List<RunningMount> mounts = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> closeAll(mounts), "cachefs-shutdown"));
        try {
            for (MountSettings mount : settings) {
                synchronized (mounts) {
                    mounts.add(RunningMount.start(mount));
                }
            }
            AdminEndpoint.start(settings, mounts);
        } catch (UserError | RuntimeException e) {
            closeAll(mounts);
            throw e;
        }
        for (RunningMount mount : mounts) {
            mount.awaitUnmount();
        }
        LOG.info("every mount is gone; exiting");
        closeAll(mounts);
        return 0;
    }

    private static void closeAll(List<RunningMount> mounts) {
        synchronized (mounts) {
            for (RunningMount mount : mounts.reversed()) {
                mount.close();
            }
            mounts.clear();
        }
    }
}
