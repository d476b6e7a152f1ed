package io.cachefs.source.s3;

import java.io.IOException;

/** A GET that sent nothing for the stall timeout: it is given up on and replaced, like a reset connection. */
final class StallException extends IOException {
    StallException(String message) {
        super(message);
    }
}
