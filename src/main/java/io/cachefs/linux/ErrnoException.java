package io.cachefs.linux;

import java.io.IOException;

/** A libc call failed: the message names the call and the error, {@link #errno()} gives its number. */
public final class ErrnoException extends IOException {
    private final int errno;

    public ErrnoException(String call, int errno) {
        super(call + " failed: " + Libc.describe(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
