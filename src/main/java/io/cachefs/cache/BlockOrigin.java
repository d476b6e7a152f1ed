package io.cachefs.cache;

/** Where a loaded block's bytes came from. */
public enum BlockOrigin {
    /** Another instance's memory. */
    PEER,
    /** The source directory. */
    SOURCE
}
