/**
 * Settings: sizes like {@code 20G} ({@link io.cachefs.config.ByteSize}), one mount's settings
 * validated with messages a user can act on ({@link io.cachefs.config.MountSettings}), and the
 * reference product's service JSON ({@link io.cachefs.config.ServiceConfig}). Knows nothing of
 * FUSE or the network.
 */
package io.cachefs.config;
