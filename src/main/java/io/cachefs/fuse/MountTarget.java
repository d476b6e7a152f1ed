package io.cachefs.fuse;

import io.cachefs.linux.Libc;

import io.cachefs.linux.Errno;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;

/**
 * The directory a mount goes on, and the kernel-side chores around it: checks before mounting
 * (with messages a user can act on), clearing a stale mount left by a killed daemon, unmounting,
 * raising the mount's readahead and aborting a connection that will not end.
 */
final class MountTarget {
    private static final Logger LOG = LoggerFactory.getLogger(MountTarget.class);
    private static final String STALE = "Transport endpoint is not connected";

    final Path path;
    final String pathString;

    MountTarget(Path path) {
        this.path = path.toAbsolutePath().normalize();
        this.pathString = this.path.toString();
    }

    /** Fails with an actionable message unless a FUSE mount can go on this directory now. */
    void check() throws FuseMountException {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            throw new FuseMountException("/dev/fuse is missing: load the FUSE kernel module (modprobe fuse) "
                    + "or, in a container, pass the device in (--device /dev/fuse)");
        }
        if (!privileged() && Fusermount.find().isEmpty()) {
            throw new FuseMountException("mounting as a user other than root needs fusermount3: install it "
                    + "(apt-get install fuse3) or run as root");
        }
        Path device = Path.of("/dev/fuse");
        if (!privileged() && !(Files.isReadable(device) && Files.isWritable(device))) {
            // fusermount3 opens the device as the calling user
            throw new FuseMountException("/dev/fuse is not open to uid " + Libc.geteuid() + ": make it readable and "
                    + "writable by users (chmod 0666 /dev/fuse, as udev does on most systems) or run as root");
        }
        Optional<String> mountedType = mountedFsType();
        if (mountedType.isPresent() && mountedType.get().startsWith("fuse")) {
            if (!hasDeadDaemon()) {
                throw new FuseMountException(pathString + " is already mounted (" + mountedType.get()
                        + "): unmount it first (fusermount3 -u " + pathString + ") or pick another mount point");
            }
            clearStale();
        }
        try {
            if (!Files.readAttributes(path, BasicFileAttributes.class).isDirectory()) {
                throw new FuseMountException("mount point " + pathString + " is not a directory");
            }
        } catch (NoSuchFileException e) {
            throw new FuseMountException("mount point " + pathString + " does not exist: create it (mkdir -p "
                    + pathString + ")");
        } catch (FileSystemException e) {
            throw new FuseMountException("mount point " + pathString + " cannot be used: " + e.getReason());
        } catch (IOException e) {
            throw new FuseMountException("mount point " + pathString + " cannot be used: " + e.getMessage());
        }
    }

    /**
     * Whether the FUSE mount on this path has lost its daemon. Listing asks the daemon (OPENDIR is
     * never answered from the kernel's caches, unlike stat), so a dead one shows as ENOTCONN.
     */
    private boolean hasDeadDaemon() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
            entries.iterator().hasNext();
            return false;
        } catch (FileSystemException e) {
            return STALE.equals(e.getReason());
        } catch (IOException | DirectoryIteratorException e) {
            return false;
        }
    }

    /** Whether this process mounts by itself (root) rather than through fusermount3. */
    static boolean privileged() {
        return Libc.geteuid() == 0;
    }

    private void clearStale() throws FuseMountException {
        if (!privileged()) {
            if (!Fusermount.unmount(pathString, true)) {
                throw new FuseMountException("a dead FUSE mount is left on " + pathString + " and could not be "
                        + "cleared: run fusermount3 -u -z " + pathString);
            }
            LOG.warn("cleared a stale FUSE mount on {} left by a daemon that did not unmount", pathString);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Libc.newCapture(arena);
            if (Libc.umount2(capture, pathString, Libc.MNT_DETACH) != 0) {
                throw new FuseMountException("a dead FUSE mount is left on " + pathString + " and could not be "
                        + "cleared (errno " + Libc.errno(capture) + "): run fusermount3 -u -z " + pathString);
            }
        }
        LOG.warn("cleared a stale FUSE mount on {} left by a daemon that did not unmount", pathString);
    }

    /** The filesystem type mounted exactly on this path, from /proc/self/mountinfo. */
    Optional<String> mountedFsType() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
            String found = null;
            for (String line : lines) {
                String[] fields = line.split(" ");
                int dash = line.indexOf(" - ");
                if (fields.length > 4 && dash > 0 && unescape(fields[4]).equals(pathString)) {
                    found = line.substring(dash + 3).split(" ")[0]; // the last mount on a path is the visible one
                }
            }
            return Optional.ofNullable(found);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String unescape(String field) {
        return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /** Unmounts; a busy mount (open files) is detached lazily. Returns false if nothing was mounted. */
    boolean unmount() {
        if (!privileged()) {
            if (Fusermount.unmount(pathString, false)) {
                return true;
            }
            LOG.warn("{} is busy (files still open) or gone: detaching it lazily", pathString);
            return Fusermount.unmount(pathString, true);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Libc.newCapture(arena);
            if (Libc.umount2(capture, pathString, 0) == 0) {
                return true;
            }
            int errno = Libc.errno(capture);
            if (errno == Errno.EBUSY) {
                LOG.warn("{} is busy (files still open): detaching it lazily", pathString);
                return Libc.umount2(capture, pathString, Libc.MNT_DETACH) == 0;
            }
            if (errno != Errno.EINVAL && errno != Errno.ENOENT) {
                LOG.warn("unmounting {} failed with errno {}", pathString, errno);
            }
            return false;
        }
    }

    /**
     * Raises the mount's readahead window. The kernel's 128 KiB default also caps READ requests at
     * 128 KiB whatever max_pages says; bigger windows measured 2.7 -> 3.7 GB/s (FUSE-NOTES.md).
     */
    static void setReadAhead(long device, int kilobytes) {
        Path knob = Path.of("/sys/class/bdi", major(device) + ":" + minor(device), "read_ahead_kb");
        try {
            Files.writeString(knob, Integer.toString(kilobytes));
        } catch (IOException e) {
            LOG.warn("could not raise readahead to {} KiB at {}: {}", kilobytes, knob, e.toString());
        }
    }

    /** Ends a connection whose mount is gone but that still has users, via the fusectl filesystem. */
    static void abortConnection(long device) {
        if (!privileged()) {
            return; // the fusectl filesystem is root's; the lazy unmount ends the connection with its last user
        }
        Path connections = Path.of("/sys/fs/fuse/connections");
        try {
            if (!Files.exists(connections.resolve(Long.toString(minor(device))))) {
                try (Arena arena = Arena.ofConfined()) {
                    Libc.mount(Libc.newCapture(arena), "fusectl", connections.toString(), "fusectl", 0, "");
                }
            }
            Files.writeString(connections.resolve(Long.toString(minor(device))).resolve("abort"), "1");
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not abort FUSE connection {}: {}", minor(device), e.toString());
        }
    }

    static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }
}
