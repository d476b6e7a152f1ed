package io.cachefs.source;

import java.io.IOException;

/**
 * The source did not answer: it timed out, or failed in a way that says nothing about the file
 * (an I/O error, a dead network mount), as opposed to a definite answer such as "not found" or
 * "changed". A caller may fall back on what it last knew for sure.
 */
public final class SourceUnavailableException extends IOException {

    public SourceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
