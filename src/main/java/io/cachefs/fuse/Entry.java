package io.cachefs.fuse;

import java.time.Duration;

/**
 * The answer to a lookup: which node a name leads to, its attributes, and how long the kernel may
 * trust each without asking again.
 *
 * @param node         the filesystem's key for the node (e.g. its path); the layer maps it to a
 *                     kernel node id and keeps that mapping while the kernel holds a reference
 * @param entryTimeout how long the name may stay cached in the kernel's dentry cache
 * @param attrTimeout  how long the attributes may stay cached
 */
public record Entry<K>(K node, Attr attr, Duration entryTimeout, Duration attrTimeout) {
}
