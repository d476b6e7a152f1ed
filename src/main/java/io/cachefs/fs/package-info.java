/**
 * CacheFS as a read-only FUSE filesystem: {@link io.cachefs.fs.CacheFs} answers the kernel from
 * the {@link io.cachefs.namespace.Namespace} (names, attributes) and the
 * {@link io.cachefs.cache.BlockCache} (bytes). A fully cached file opens in passthrough; other
 * opens are served block by block from cache memory with sequential readahead. A changed source
 * file is a new inode ({@link io.cachefs.fs.NodeKey} carries the version), so old and new bytes
 * never mix. Errno is decided here and nowhere below.
 */
package io.cachefs.fs;

import io.cachefs.linux.Errno;
