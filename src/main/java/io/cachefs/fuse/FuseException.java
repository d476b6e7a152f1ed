package io.cachefs.fuse;

/**
 * A filesystem operation's failure, carrying the errno the kernel is answered with.
 *
 * <p>Thrown on ordinary paths (a lookup of a missing name is ENOENT), so it records no stack
 * trace: that makes it as cheap as a return value.
 */
public final class FuseException extends RuntimeException {
    private final int errno;

    public FuseException(int errno) {
        this(errno, null);
    }

    public FuseException(int errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
