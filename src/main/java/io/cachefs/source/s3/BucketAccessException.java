package io.cachefs.source.s3;

import java.io.IOException;

/**
 * The bucket cannot be mirrored as configured: the URL's bucket does not exist, the credentials
 * are refused or missing, the endpoint does not answer. The message is one line for the user,
 * naming the problem and what to change.
 */
public final class BucketAccessException extends IOException {
    BucketAccessException(String message) {
        super(message, null);
    }
}
