package io.cachefs.cli;

import io.cachefs.config.MountSettings;
import io.cachefs.config.ServiceConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code cachefs run --config service.json}: every cache mount a reference-format service file asks for. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Mount every storage entry with a \"cache\" section of a service JSON file "
                + "(cache.path = source, cache.capacity, mount_path = mount point).")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "The service JSON file.")
    Path config;

    @Mixin
    MountOptionsMixin tuning;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(config)) {
            throw new UserError("service file " + config + " does not exist");
        }
        List<MountSettings> mounts = ServiceConfig.parse(config).toMountSettings(tuning.applyTo(MountSettings.builder()));
        return Daemon.serve(mounts, tuning.force);
    }
}
