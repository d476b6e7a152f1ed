package io.cachefs.cache;

import java.io.IOException;

/** A block did not arrive within the source timeout: the source hangs or is far slower than it should be. */
public final class SourceTimeoutException extends IOException {
    public SourceTimeoutException(String message) {
        super(message);
    }
}
