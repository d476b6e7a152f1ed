package io.cachefs.cli;

import io.cachefs.admin.AdminServer;
import io.cachefs.admin.MonitoredMount;
import io.cachefs.admin.MountContents;
import io.cachefs.admin.PreloadStatus;
import io.cachefs.admin.MountMetrics;
import io.cachefs.config.HostPort;
import io.cachefs.config.MountSettings;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Starts the admin endpoint (/metrics, /status) for the mounts that asked for one, and reports them. */
final class AdminEndpoint {
    private AdminEndpoint() {
    }

    /** What the endpoint sees of a running mount. */
    record Monitored(RunningMount mount) implements MonitoredMount {
        @Override
        public String mountPoint() {
            return mount.mountPoint().toString();
        }

        @Override
        public String source() {
            return mount.settings.source().toString();
        }

        @Override
        public PreloadStatus preload() {
            return mount.preloadStatus();
        }

        @Override
        public MountContents contents() {
            return mount.contents();
        }

        @Override
        public MountMetrics metrics() {
            return mount.metrics();
        }
    }

    /**
     * One endpoint per distinct address, reporting on every mount (a service file's mounts share
     * one); null when no mount asked for it.
     */
    static AdminServer start(List<MountSettings> settings, List<RunningMount> mounts) throws UserError {
        HostPort address = settings.stream().map(MountSettings::adminAddress).filter(Objects::nonNull).findFirst().orElse(null);
        if (address == null) {
            return null;
        }
        List<Monitored> monitored = new ArrayList<>();
        mounts.forEach(mount -> monitored.add(new Monitored(mount)));
        try {
            return AdminServer.start(address.orHost(HostPort.LOOPBACK).socketAddress(), monitored);
        } catch (IOException e) {
            throw new UserError(e.getMessage());
        }
    }
}
