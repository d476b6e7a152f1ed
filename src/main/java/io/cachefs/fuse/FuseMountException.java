package io.cachefs.fuse;

import java.io.IOException;

/** A mount that could not be made, with a message that says what to do about it. */
public final class FuseMountException extends IOException {
    public FuseMountException(String message) {
        super(message);
    }
}
