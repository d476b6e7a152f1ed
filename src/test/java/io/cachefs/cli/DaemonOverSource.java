package io.cachefs.cli;

import io.cachefs.fuse.SourceMount;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What most daemon tests stand on: a scratch directory, the project's FUSE test source
 * ({@link SourceMount}: it counts opens, seeks and bytes read, and can hang or fail on cue), an
 * empty mount point, and the daemons a test starts over them. Closing it stops every daemon it
 * started, then unmounts the source, then deletes the scratch directory, each even if the one
 * before failed: a test that fails half-way leaves no process, mount or file behind.
 */
final class DaemonOverSource implements AutoCloseable {
    /** How long a daemon may take to mount; a cold JVM on a busy 2-core machine takes seconds. */
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);

    final ScratchDir scratch;
    final SourceMount source;
    /** The mount point, {@code mount} in the scratch directory. */
    final Path mount;
    private final List<DaemonProcess> started = new ArrayList<>();

    private DaemonOverSource(ScratchDir scratch, SourceMount source, Path mount) {
        this.scratch = scratch;
        this.source = source;
        this.mount = mount;
    }

    static DaemonOverSource create() throws Exception {
        ScratchDir scratch = new ScratchDir();
        try {
            return new DaemonOverSource(scratch, SourceMount.start(), scratch.dir("mount"));
        } catch (Exception | Error e) {
            scratch.close();
            throw e;
        }
    }

    /** Starts {@code cachefs mount} over the test source with {@code args} and waits until it has mounted. */
    DaemonProcess mount(String... args) throws IOException, InterruptedException {
        return mount(source.dir(), args);
    }

    /** Starts {@code cachefs mount} over {@code sourceDir} with {@code args} and waits until it has mounted. */
    DaemonProcess mount(Path sourceDir, String... args) throws IOException, InterruptedException {
        return start(sourceDir, args).awaitMounted(MOUNT_TIMEOUT);
    }

    /**
     * Starts {@code cachefs mount --source SOURCE_DIR --mount MOUNT args...} without waiting for
     * it (e.g. on a mount point a killed daemon left stale, which the mount table cannot tell
     * from a live one); it is stopped on close, also if the test's wait for it fails.
     */
    DaemonProcess start(Path sourceDir, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("mount", "--source", sourceDir.toString(), "--mount",
                mount.toString()));
        command.addAll(List.of(args));
        DaemonProcess daemon = DaemonProcess.start(scratch, mount, command.toArray(String[]::new));
        started.add(daemon);
        return daemon;
    }

    @Override
    public void close() throws Exception {
        // the daemons first (one killed or exited only has its mount point checked), then what they stood on
        List<AutoCloseable> parts = new ArrayList<>(started.reversed());
        parts.add(source);
        parts.add(scratch);
        Exception failure = null;
        for (AutoCloseable part : parts) {
            try {
                part.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
