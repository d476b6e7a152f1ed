/**
 * The {@code cachefs} command: {@code mount}, {@code run --config} (the reference product's
 * service JSON), {@code status} (a daemon at a glance, from its {@code /status}), {@code warmup}
 * (see {@link io.cachefs.warmup}) and {@code demo}. {@code RunningMount} wires one mount (source,
 * throttle, block cache, filesystem, FUSE mount, preload); {@code Daemon} runs mounts in the
 * foreground until SIGINT/SIGTERM. Every user error is one line on stderr and exit code 2.
 */
package io.cachefs.cli;
