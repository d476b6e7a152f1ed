package io.cachefs.cli;

import io.cachefs.config.MountSettings;
import io.cachefs.config.SourceLocation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code cachefs mount}: one cache mount in the foreground until SIGINT/SIGTERM. */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = "Mount a read-only memory cache of SOURCE on MOUNT and serve it until SIGINT/SIGTERM.")
final class MountCommand implements Callable<Integer> {
    @Option(names = "--source", required = true, paramLabel = "SRC",
            description = "The slow directory to mirror, or s3://BUCKET[/PREFIX] for a bucket of an S3-compatible store.")
    String source;

    @Option(names = "--mount", required = true, paramLabel = "MNT", description = "An empty directory to mount on.")
    Path mountPoint;

    @Option(names = "--capacity", required = true, paramLabel = "SIZE",
            description = "Memory for cached file bytes, e.g. 512M, 20G, 1.5T.")
    Size capacity;

    @Mixin
    MountOptionsMixin tuning;

    @Override
    public Integer call() throws Exception {
        MountSettings settings = tuning.applyTo(MountSettings.builder())
                .sourceLocation(SourceLocation.parse(source)).mountPoint(mountPoint).capacityBytes(capacity.bytes()).build();
        return Daemon.serve(List.of(settings), tuning.force);
    }
}
