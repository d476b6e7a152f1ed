package io.cachefs.peer;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates and keys for tests, made by the {@code openssl} command as a user would make them
 * (the README's commands), in a test's scratch directory: a self-signed group certificate, one
 * issued by a group CA, one from another CA, expired or not yet valid ones, a PKCS#1/SEC1 key.
 * EC P-256 keys: quick to make.
 */
public final class TestCertificates {

    /** A certificate and its key, PEM (the key PKCS#8). */
    public record Pem(Path cert, Path key) {}

    private TestCertificates() {}

    /** A self-signed group certificate valid from now for two days: {@code NAME.pem}, {@code NAME.key}. */
    public static Pem selfSigned(Path dir, String name) throws IOException {
        Pem pem = new Pem(dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
                "-keyout", pem.key().toString(), "-out", pem.cert().toString(), "-days", "2",
                "-subj", "/CN=" + name);
        return pem;
    }

    /** A member certificate issued by {@code ca} (itself made by {@link #selfSigned}). */
    public static Pem issuedBy(Pem ca, Path dir, String name) throws IOException {
        Pem pem = new Pem(dir.resolve(name + ".pem"), dir.resolve(name + ".key"));
        Path request = dir.resolve(name + ".csr");
        openssl(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
                "-keyout", pem.key().toString(), "-out", request.toString(), "-subj", "/CN=" + name);
        openssl(dir, "x509", "-req", "-in", request.toString(), "-CA", ca.cert().toString(), "-CAkey",
                ca.key().toString(), "-CAcreateserial", "-days", "2", "-out", pem.cert().toString());
        return pem;
    }

    /**
     * A self-signed certificate valid only between {@code start} and {@code end}
     * ({@code YYYYMMDDHHMMSSZ}), made by {@code openssl ca}, the only 3.0 command that takes dates.
     */
    public static Pem dated(Path dir, String name, String start, String end) throws IOException {
        Pem pem = selfSigned(dir, name + "-key-source");
        Path ca = Files.createDirectories(dir.resolve(name + "-ca"));
        Files.createDirectories(ca.resolve("newcerts"));
        Files.writeString(ca.resolve("index.txt"), "");
        Files.writeString(ca.resolve("serial"), "01\n");
        Path config = Files.writeString(ca.resolve("ca.cnf"), """
                [ca]
                default_ca = group
                [group]
                dir = %s
                database = $dir/index.txt
                new_certs_dir = $dir/newcerts
                serial = $dir/serial
                default_md = sha256
                policy = any
                unique_subject = no
                [any]
                commonName = supplied
                """.formatted(ca));
        Path request = dir.resolve(name + ".csr");
        openssl(dir, "req", "-new", "-key", pem.key().toString(), "-subj", "/CN=" + name, "-out", request.toString());
        Path cert = dir.resolve(name + ".pem");
        openssl(dir, "ca", "-batch", "-config", config.toString(), "-selfsign", "-keyfile", pem.key().toString(),
                "-in", request.toString(), "-startdate", start, "-enddate", end, "-out", cert.toString());
        return new Pem(cert, pem.key());
    }

    /** {@code pem}'s key in the traditional (SEC1 for EC, like PKCS#1 for RSA) format, not PKCS#8. */
    public static Path traditionalKey(Pem pem, Path dir) throws IOException {
        Path key = dir.resolve("traditional.key");
        openssl(dir, "ec", "-in", pem.key().toString(), "-out", key.toString());
        return key;
    }

    /** The certificates' PEM texts in one file, a trust bundle. */
    public static Path bundle(Path file, Path... certificates) throws IOException {
        StringBuilder text = new StringBuilder();
        for (Path certificate : certificates) {
            text.append(Files.readString(certificate));
        }
        return Files.writeString(file, text);
    }

    /**
     * A JDK TLS 1.3 context presenting {@code identity} (or no certificate, if null) and trusting
     * the certificates in {@code trust}: a client or server written without CacheFS's code.
     */
    public static SSLContext jdkContext(Pem identity, Path trust, Path dir) throws Exception {
        KeyManager[] keys = null;
        if (identity != null) {
            Path p12 = dir.resolve(identity.cert().getFileName() + ".p12");
            openssl(dir, "pkcs12", "-export", "-in", identity.cert().toString(), "-inkey", identity.key().toString(),
                    "-out", p12.toString(), "-passout", "pass:test");
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(p12)) {
                store.load(in, "test".toCharArray());
            }
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, "test".toCharArray());
            keys = factory.getKeyManagers();
        }
        KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
        anchors.load(null, null);
        try (var in = Files.newInputStream(trust)) {
            int i = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                anchors.setCertificateEntry("anchor-" + i++, certificate);
            }
        }
        TrustManagerFactory trustFactory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustFactory.init(anchors);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keys, trustFactory.getTrustManagers(), null);
        return context;
    }

    private static void openssl(Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), UTF_8);
            if (process.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed:\n" + output);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
