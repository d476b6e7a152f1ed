package io.cachefs.fuse;

import java.io.IOException;
import java.nio.file.Path;

/** Lets tests of other packages use the FUSE tests' last-resort cleanup. */
public final class TestMounts {
    private TestMounts() {
    }

    /** Unmounts {@code path} lazily if anything is still mounted there. */
    public static void forceUnmount(Path path) throws IOException, InterruptedException {
        Shell.forceUnmount(path);
    }

    public static boolean isMountPoint(Path path) throws IOException {
        return Shell.isMountPoint(path);
    }

    public static String sh(String script) throws IOException, InterruptedException {
        return Shell.sh(script);
    }
}
