package io.cachefs.cli;

import io.cachefs.config.ByteSize;

/** A byte count given on the command line as 512M, 20G, 1.5T or plain bytes. */
record Size(long bytes) {
    static Size parse(String text) {
        return new Size(ByteSize.parse(text));
    }
}
