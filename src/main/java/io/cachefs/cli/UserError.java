package io.cachefs.cli;

/** A problem the user can fix, reported as one line and exit code 2, never a stack trace. */
final class UserError extends Exception {
    UserError(String message) {
        super(message, null, false, false);
    }
}
