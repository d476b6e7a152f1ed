package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.cachefs.config.PeerTlsFiles;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Mutual TLS on the peer wire, for one group: its certificate and key, which every member
 * presents as server and as client, and the certificates a member's must chain to. The server
 * requires a client certificate, so without the group's key a client cannot even send a request;
 * the HMAC signature ({@link PeerToken}) still signs each request inside.
 *
 * <p>Two contexts per group, made once ({@link #load}): Netty's {@link SslHandler}s for the
 * {@link BlockServer} and {@link SSLEngine}s for {@link PeerConnection}s come from them, so a
 * connection costs a handshake, not a reading of the files. TLS 1.3 only: every member runs this
 * code, and 1.3 has one round trip and no weak suites to rule out.
 *
 * <p>No hostname verification: members are addressed by IP (a headless Service's pod addresses,
 * a {@code file:} list) and share one certificate, so no name in it could match them all; what
 * proves membership is the chain to the group's trust anchors and the key behind it, checked both
 * ways.
 */
public final class PeerTls {

    private static final List<String> PROTOCOLS = List.of("TLSv1.3");
    private static final String CONVERT = "openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8";

    private final SslContext server;
    private final SslContext client;

    private PeerTls(SslContext server, SslContext client) {
        this.server = server;
        this.client = client;
    }

    /**
     * Reads and checks {@code files}: each readable PEM, the key PKCS#8 and the certificate's,
     * the certificate valid today and chaining to the trust anchors.
     *
     * @throws IllegalArgumentException with one line naming the file, the problem and what to do
     */
    public static PeerTls load(PeerTlsFiles files) {
        List<X509Certificate> chain = certificates(files.cert(), "--peer-tls-cert");
        X509Certificate own = chain.getFirst();
        PrivateKey key = privateKey(files.key(), own);
        checkValidity(files.cert(), own);
        List<X509Certificate> anchors = files.trust().equals(files.cert()) ? chain
                : certificates(files.trust(), "--peer-tls-trust");
        TrustManagerFactory trust = trustManagers(files, anchors);
        checkChain(files, chain, trust);
        try {
            SslContext server = SslContextBuilder.forServer(key, chain)
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS)
                    .trustManager(trust)
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
            SslContext client = SslContextBuilder.forClient()
                    .sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS)
                    .keyManager(key, chain)
                    .trustManager(trust)
                    // members are addressed by IP and share one certificate: no host name to verify (class comment)
                    .endpointIdentificationAlgorithm(null)
                    .build();
            return new PeerTls(server, client);
        } catch (SSLException e) {
            throw new IllegalArgumentException("the peer TLS files " + files.cert() + " and " + files.key()
                    + " cannot make a TLS context: " + e.getMessage());
        }
    }

    /** A server-side handler for one accepted connection. */
    SslHandler serverHandler(ByteBufAllocator allocator) {
        return server.newHandler(allocator);
    }

    /** A client-side engine for one connection. */
    SSLEngine clientEngine() {
        return client.newEngine(ByteBufAllocator.DEFAULT);
    }

    private static String read(Path file, String flag) {
        try {
            return Files.readString(file, US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(flag + " " + file + " does not exist: name the PEM file (for a "
                    + "Kubernetes secret, the file it is mounted as)");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(flag + " " + file + " cannot be read (permission denied): let the "
                    + "daemon's user read it");
        } catch (IOException e) {
            throw new IllegalArgumentException(flag + " " + file + " cannot be read: " + e.getMessage());
        }
    }

    private static List<X509Certificate> certificates(Path file, String flag) {
        String text = read(file, flag);
        if (!text.contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException(flag + " " + file + " is not a PEM certificate (no -----BEGIN "
                    + "CERTIFICATE----- line): give the certificate in PEM, e.g. openssl x509 -in CERT -out CERT.pem");
        }
        try {
            List<X509Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(text.getBytes(US_ASCII))).stream()
                    .map(X509Certificate.class::cast).toList();
            if (certificates.isEmpty()) {
                throw new CertificateException("no certificate in it");
            }
            return certificates;
        } catch (CertificateException | RuntimeException e) {
            throw new IllegalArgumentException(flag + " " + file + " is not a valid PEM certificate ("
                    + e.getMessage() + "): make it again, e.g. with openssl req -x509");
        }
    }

    /** The PKCS#8 key in {@code file}, which must be the key of {@code certificate}. */
    private static PrivateKey privateKey(Path file, X509Certificate certificate) {
        String text = read(file, "--peer-tls-key");
        if (text.contains("-----BEGIN RSA PRIVATE KEY-----") || text.contains("-----BEGIN EC PRIVATE KEY-----")) {
            throw new IllegalArgumentException("--peer-tls-key " + file + " is a PKCS#1/SEC1 key: convert it to "
                    + "PKCS#8 with " + CONVERT);
        }
        if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
            throw new IllegalArgumentException("--peer-tls-key " + file + " is encrypted: write it unencrypted "
                    + "(protect the file instead) with " + CONVERT);
        }
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("--peer-tls-key " + file + " is not a PEM private key (no -----BEGIN "
                    + "PRIVATE KEY----- block): give the certificate's key in PKCS#8 PEM, e.g. " + CONVERT);
        }
        String algorithm = certificate.getPublicKey().getAlgorithm();
        PrivateKey key;
        try {
            byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
            key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--peer-tls-key " + file + " is not the key of --peer-tls-cert (that "
                    + "needs an " + algorithm + " key; " + e.getMessage() + "): give the key the certificate was made with");
        }
        if (!signsFor(key, certificate)) {
            throw new IllegalArgumentException("--peer-tls-key " + file + " does not match the certificate in "
                    + "--peer-tls-cert: give the key the certificate was made with");
        }
        return key;
    }

    /** Whether {@code key} is the private half of the certificate's public key: it signs, the certificate verifies. */
    private static boolean signsFor(PrivateKey key, X509Certificate certificate) {
        byte[] probe = "cachefs peer key check".getBytes(US_ASCII);
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448: the key's algorithm is its signature's
        };
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static void checkValidity(Path file, X509Certificate certificate) {
        try {
            certificate.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new IllegalArgumentException("--peer-tls-cert " + file + " expired on " + certificate.getNotAfter()
                    .toInstant() + ": make a new group certificate and give it to every member");
        } catch (CertificateNotYetValidException e) {
            throw new IllegalArgumentException("--peer-tls-cert " + file + " is not valid before "
                    + certificate.getNotBefore().toInstant() + ": check this machine's clock, or wait");
        }
    }

    private static TrustManagerFactory trustManagers(PeerTlsFiles files, List<X509Certificate> anchors) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < anchors.size(); i++) {
                store.setCertificateEntry("anchor-" + i, anchors.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("--peer-tls-trust " + files.trust() + " cannot be used as trust anchors: "
                    + e.getMessage());
        }
    }

    /**
     * Refuses a certificate the group would refuse: one that does not chain to the trust anchors,
     * or may not serve as a TLS client or server; better at start than as a silent source read.
     */
    private static void checkChain(PeerTlsFiles files, List<X509Certificate> chain, TrustManagerFactory trust) {
        X509TrustManager manager = (X509TrustManager) trust.getTrustManagers()[0];
        X509Certificate[] certificates = chain.toArray(X509Certificate[]::new);
        String keyType = chain.getFirst().getPublicKey().getAlgorithm();
        try {
            manager.checkClientTrusted(certificates, keyType);
            manager.checkServerTrusted(certificates, "UNKNOWN"); // what TLS 1.3 passes: no key exchange in the suite
        } catch (CertificateException e) {
            throw new IllegalArgumentException("--peer-tls-cert " + files.cert() + " is not trusted by --peer-tls-trust "
                    + files.trust() + " (" + innermost(e).getMessage() + "): give the CA certificate that signed it, "
                    + "or the certificate itself");
        }
    }

    /** The first cause, whose message says what is wrong without the wrappers' class names. */
    private static Throwable innermost(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    @Override
    public String toString() {
        return "PeerTls[TLSv1.3, mutual]";
    }
}
