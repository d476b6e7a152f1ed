package io.cachefs.config;

/**
 * Whether the kernel's page cache may keep a file's pages between opens of the cache mount.
 * Keeping them makes a re-opened file that is not fully cached load at page-cache speed, but
 * holds its bytes a second time, outside CacheFS's capacity, and costs a copy on every first read;
 * off (the default) serves reads with direct I/O, one copy from the cache's memory into the
 * reader's buffer, and keeps memory use to the capacity alone. A fully cached file is handed to
 * the kernel by passthrough either way: since files are loaded whole on open, that is most opens.
 */
public enum KernelCache {
    /** Keep pages of an unchanged file across opens (FUSE FOPEN_KEEP_CACHE). */
    KEEP,
    /** Drop the file's pages on every open. */
    OFF
}
