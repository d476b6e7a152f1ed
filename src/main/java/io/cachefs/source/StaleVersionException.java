package io.cachefs.source;

import java.io.IOException;

/**
 * The source file is no longer the version a read asked for: it changed size or mtime, or ended
 * early. The bytes read are discarded; the caller looks the file up again and reads the new
 * version.
 */
public final class StaleVersionException extends IOException {

    private final transient FileVersion expected;

    public StaleVersionException(FileVersion expected, String change) {
        super("source file " + expected.path() + " changed while reading version (size "
                + expected.size() + ", mtime " + expected.mtimeNanos() + " ns): " + change);
        this.expected = expected;
    }

    /** The version the read asked for. */
    public FileVersion expected() {
        return expected;
    }
}
