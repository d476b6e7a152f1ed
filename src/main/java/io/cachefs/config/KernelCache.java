package io.cachefs.config;

/**
 * Whether the kernel's page cache may keep a file's pages between opens of the cache mount.
 * Keeping them makes a re-opened model load at page-cache speed, but holds its bytes a second
 * time, outside CacheFS's capacity; turning it off keeps memory use to the capacity alone.
 */
public enum KernelCache {
    /** Keep pages of an unchanged file across opens (FUSE FOPEN_KEEP_CACHE). */
    KEEP,
    /** Drop the file's pages on every open. */
    OFF
}
