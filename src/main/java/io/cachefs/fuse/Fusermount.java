package io.cachefs.fuse;

import io.cachefs.linux.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Mounting and unmounting as a user without CAP_SYS_ADMIN, through the setuid helper
 * {@code fusermount3}, as libfuse does: the helper opens {@code /dev/fuse}, mounts it and sends
 * the open descriptor back over a Unix socket named by {@code _FUSE_COMMFD}.
 */
final class Fusermount {
    private static final Logger LOG = LoggerFactory.getLogger(Fusermount.class);
    private static final List<Path> LOCATIONS = List.of(Path.of("/usr/bin/fusermount3"), Path.of("/bin/fusermount3"),
            Path.of("/usr/local/bin/fusermount3"));

    private Fusermount() {
    }

    /** Where fusermount3 is installed, if it is. */
    static Optional<Path> find() {
        return LOCATIONS.stream().filter(Files::isExecutable).findFirst();
    }

    /**
     * Mounts read-only on {@code target} and returns the FUSE device descriptor.
     *
     * @throws FuseMountException if the helper is missing or refuses (its own message is on
     *     stderr, in the daemon's log)
     */
    static int mount(MountTarget target, MountOptions options) throws FuseMountException {
        Path helper = find().orElseThrow(() -> new FuseMountException("mounting as a user other than root needs "
                + "fusermount3: install it (apt-get install fuse3) or run as root"));
        StringBuilder mountOptions = new StringBuilder("ro,nosuid,nodev,default_permissions,fsname=")
                .append(options.fsName()).append(",subtype=").append(options.subtype());
        if (options.allowOther()) {
            if (userAllowOther()) {
                mountOptions.append(",allow_other");
            } else {
                LOG.warn("only uid {} can read {}: let other users with user_allow_other in /etc/fuse.conf",
                        Libc.geteuid(), target.pathString);
            }
        }
        int[] sockets;
        try {
            sockets = Libc.socketPair();
        } catch (IOException e) {
            throw new FuseMountException("cannot make a socket for fusermount3: " + e.getMessage());
        }
        try {
            // _FUSE_COMMFD is what fusermount3 3.x reads; later releases read _FUSERMOUNT_COMM_FD
            List<String> env = new ArrayList<>(List.of("_FUSE_COMMFD=" + sockets[1],
                    "_FUSERMOUNT_COMM_FD=" + sockets[1], "PATH=/usr/bin:/bin"));
            int status = Libc.spawnAndWait(List.of(helper.toString(), "-o", mountOptions.toString(), "--",
                    target.pathString), env);
            if (status != 0) {
                throw new FuseMountException("fusermount3 could not mount " + target.pathString + " (exit " + status
                        + "; its message is above): the mount point must be a directory this user owns");
            }
            closeQuietly(sockets[1]);
            sockets[1] = -1;
            int fd = Libc.receiveFd(sockets[0]);
            if (fd < 0) {
                throw new FuseMountException("fusermount3 mounted " + target.pathString + " but sent no FUSE device");
            }
            return fd;
        } catch (IOException e) {
            throw new FuseMountException("mounting " + target.pathString + " through fusermount3 failed: " + e.getMessage());
        } finally {
            closeQuietly(sockets[0]);
            if (sockets[1] >= 0) {
                closeQuietly(sockets[1]);
            }
        }
    }

    /** Unmounts (lazily: detached even while files are open); false if fusermount3 refused. */
    static boolean unmount(String path, boolean lazy) {
        Optional<Path> helper = find();
        if (helper.isEmpty()) {
            return false;
        }
        List<String> command = new ArrayList<>(List.of(helper.get().toString(), lazy ? "-uz" : "-u", "--", path));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).strip();
            int status = process.waitFor();
            if (status != 0 && !out.isEmpty()) {
                LOG.debug("fusermount3 -u {}: {}", path, out);
            }
            return status == 0;
        } catch (IOException e) {
            LOG.warn("could not run fusermount3 -u {}: {}", path, e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean userAllowOther() {
        try {
            return Files.readAllLines(Path.of("/etc/fuse.conf")).stream().map(String::strip)
                    .anyMatch(line -> line.equals("user_allow_other"));
        } catch (IOException e) {
            return false;
        }
    }

    private static void closeQuietly(int fd) {
        try {
            Libc.close(fd);
        } catch (IOException e) {
            // nothing to do: the descriptor is gone either way
        }
    }
}
