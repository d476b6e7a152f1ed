/**
 * Path to entry: what the mount shows of the source tree, remembered for a short TTL so new files
 * appear within about a second, with changed or deleted files reported so no stale bytes are
 * served. Knows nothing of blocks or FUSE.
 */
package io.cachefs.namespace;
