package io.cachefs.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One entry of a service file's "storage" array that has a "cache" section: mirror the
 * directory or bucket {@code cache.path} at {@code mount_path}, holding up to {@code cache.capacity}.
 * Settings the file leaves out come from the defaults the command line supplies.
 *
 * @param field where it came from, e.g. {@code storage[1]}, for error messages
 * @param blockSize {@code cache.block_size}, if given
 * @param listen {@code cache.listen}, if given
 * @param peers {@code cache.peers}, empty if not given
 * @param peerTokenFile {@code cache.peer_token_file}, if given
 * @param peerTls {@code cache.peer_tls_cert}, {@code cache.peer_tls_key} and {@code cache.peer_tls_trust}, if given
 * @param preload {@code cache.preload}, empty if not given
 */
public record CacheMount(
        String field,
        SourceLocation source,
        Path mountPoint,
        long capacityBytes,
        OptionalLong blockSize,
        Optional<String> listen,
        List<String> peers,
        Optional<Path> peerTokenFile,
        Optional<PeerTlsFiles> peerTls,
        List<String> preload) {

    public CacheMount {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(mountPoint, "mountPoint");
        Objects.requireNonNull(blockSize, "blockSize");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(peerTokenFile, "peerTokenFile");
        Objects.requireNonNull(peerTls, "peerTls");
        peers = List.copyOf(peers);
        preload = List.copyOf(preload);
    }

    /**
     * The settings of this mount: {@code defaults} (left unchanged) overridden by what the
     * service file says.
     *
     * @throws IllegalArgumentException if the combination is invalid, e.g. a capacity smaller than
     *     the default block size
     */
    public MountSettings toMountSettings(MountSettings.Builder defaults) {
        MountSettings.Builder settings = defaults.copy()
                .sourceLocation(source)
                .mountPoint(mountPoint)
                .capacityBytes(capacityBytes);
        if (source instanceof SourceLocation.Directory) {
            settings.s3Endpoint(null).s3PathStyle(false); // run's S3 flags are for its s3:// mounts only
        }
        blockSize.ifPresent(settings::blockSize);
        listen.ifPresent(settings::listen);
        peerTokenFile.ifPresent(settings::peerTokenFile);
        peerTls.ifPresent(settings::peerTls);
        if (!peers.isEmpty()) {
            settings.peers(peers);
        }
        if (!preload.isEmpty()) {
            settings.preload(preload);
        }
        return settings.build();
    }
}
