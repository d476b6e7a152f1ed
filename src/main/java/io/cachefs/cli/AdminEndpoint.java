package io.cachefs.cli;

import io.cachefs.config.MountSettings;

import java.util.List;

/** Placeholder until the admin endpoint lands: refuses --admin rather than ignoring it. */
final class AdminEndpoint {
    private AdminEndpoint() {
    }

    static void start(List<MountSettings> settings, List<RunningMount> mounts) throws UserError {
        for (MountSettings mount : settings) {
            if (mount.adminAddress() != null) {
                throw new UserError("--admin is not available in this build");
            }
        }
    }
}
