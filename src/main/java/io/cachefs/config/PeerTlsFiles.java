package io.cachefs.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The files of a peer group's TLS, as named ({@code --peer-tls-cert}, {@code --peer-tls-key},
 * {@code --peer-tls-trust}, or {@code cache.peer_tls_*} in a service file): the group's certificate
 * (PEM) and its key (PEM, PKCS#8), which every member presents, and the certificates it trusts.
 * Whether they hold what they should is checked where they are read ({@code peer.PeerTls}); this
 * only says which files, and that a certificate never comes without its key.
 *
 * @param trust a PEM bundle of the certificates to trust; the certificate itself when not named,
 *     the common case of one group certificate in one Kubernetes secret
 */
public record PeerTlsFiles(Path cert, Path key, Path trust) {

    public PeerTlsFiles {
        if (cert == null || key == null) {
            throw new IllegalArgumentException((cert == null ? "--peer-tls-key needs --peer-tls-cert FILE"
                    : "--peer-tls-cert needs --peer-tls-key FILE") + ": the group's certificate and its key go together "
                    + "(cache.peer_tls_cert and cache.peer_tls_key in a service file)");
        }
        cert = cert.toAbsolutePath().normalize();
        key = key.toAbsolutePath().normalize();
        trust = trust == null ? cert : trust.toAbsolutePath().normalize();
    }

    /**
     * The files named, if any; {@code trust} may be null (the certificate).
     *
     * @throws IllegalArgumentException if only one of certificate and key is named, or a trust
     *     bundle without them
     */
    public static Optional<PeerTlsFiles> of(Path cert, Path key, Path trust) {
        if (cert == null && key == null) {
            if (trust != null) {
                throw new IllegalArgumentException("--peer-tls-trust needs --peer-tls-cert FILE and --peer-tls-key FILE: "
                        + "trusting certificates is for a member that speaks TLS itself");
            }
            return Optional.empty();
        }
        return Optional.of(new PeerTlsFiles(cert, key, trust));
    }
}
