package io.cachefs.fuse;

import java.time.Duration;

/** The answer to getattr: a node's attributes and how long the kernel may cache them. */
public record Attributes(Attr attr, Duration timeout) {
}
