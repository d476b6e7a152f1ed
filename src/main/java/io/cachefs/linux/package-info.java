/**
 * The Linux calls and constants CacheFS uses, and nothing else: {@link io.cachefs.linux.Libc}
 * (every libc downcall, raw for the FUSE hot path or checked), {@link io.cachefs.linux.Statx}
 * (file identity and allocation), {@link io.cachefs.linux.Errno} and
 * {@link io.cachefs.linux.FileMode}. Imports nothing of CacheFS; {@code fuse}, {@code cache} and
 * {@code source} build on it.
 */
package io.cachefs.linux;
