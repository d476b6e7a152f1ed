package io.cachefs.cli;

import io.cachefs.admin.AdminServer;
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
        AdminServer[] admin = new AdminServer[1];
        Runtime.getRuntime().addShutdownHook(new Thread(() -> closeAll(admin[0], mounts), "cachefs-shutdown"));
        try {
            for (MountSettings mount : settings) {
                synchronized (mounts) {
                    mounts.add(RunningMount.start(mount));
                }
            }
            admin[0] = AdminEndpoint.start(settings, mounts);
            if (admin[0] != null) {
                LOG.info("metrics and status on http://{}/metrics and /status", settings.stream()
                        .map(MountSettings::adminAddress).filter(java.util.Objects::nonNull).findFirst().orElseThrow());
            }
        } catch (UserError | RuntimeException e) {
            closeAll(admin[0], mounts);
            throw e;
        }
        for (RunningMount mount : mounts) {
            mount.awaitUnmount();
        }
        LOG.info("every mount is gone; exiting");
        closeAll(admin[0], mounts);
        return 0;
    }

    private static void closeAll(AdminServer admin, List<RunningMount> mounts) {
        if (admin != null) {
            admin.close();
        }
        synchronized (mounts) {
            for (RunningMount mount : mounts.reversed()) {
                mount.close();
            }
            mounts.clear();
        }
    }
}
