package io.cachefs.source.s3;

import io.cachefs.LoopbackPort;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.CompletionException;

/**
 * A real S3 server for tests: s3proxy (its runnable jar, which the build copies into
 * {@code target/bench-tools}) with the filesystem backend, in a process of its own on a free
 * loopback port, with its objects in a temporary directory. Uploads go through the S3 API, so
 * objects carry an ETag as on a real store. Closing it ends the process and deletes the objects.
 *
 * <p>The process gets an environment of its own: none of the machine's AWS or Java option
 * variables.
 */
public final class S3Server implements AutoCloseable {
    public static final String ACCESS_KEY = "cachefs-test";
    public static final String SECRET_KEY = "cachefs-test-secret";
    private static final String VERSION = "4.1.0";

    private final Process process;
    private final Path dir;
    private final int port;
    private final S3AsyncClient client;

    private S3Server(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.client = S3AsyncClient.builder()
                .endpointOverride(endpoint())
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
    }

    /** Where the server keeps objects. */
    public enum Backend {
        /** Files in a directory, as the bench runs it: any size ({@link #putSparse}), but keys must be paths. */
        FILESYSTEM,
        /** The Java heap: any key S3 allows ("a//b", "a" beside "a/b", "dir/"), small objects only. */
        MEMORY
    }

    /** Starts a server with the filesystem backend; returns once it answers. */
    public static S3Server start() throws IOException, InterruptedException {
        return start(Backend.FILESYSTEM);
    }

    /** Starts the server; returns once it answers. */
    public static S3Server start(Backend backend) throws IOException, InterruptedException {
        Path jar = Path.of("target/bench-tools/s3proxy-" + VERSION + "-jar-with-dependencies.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: the build copies it (mvn generate-test-resources)");
        }
        Path dir = Files.createTempDirectory("cachefs-s3-test");
        Path objects = Files.createDirectories(dir.resolve("objects"));
        int port = LoopbackPort.free();
        Path properties = dir.resolve("s3proxy.properties");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=" + (backend == Backend.FILESYSTEM ? "filesystem" : "transient"),
                "jclouds.filesystem.basedir=" + objects, ""));
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", jar.toString(), "--properties", properties.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("s3proxy.log").toFile());
        hermetic(builder.environment());
        Process process = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!answers(port)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                String log = Files.readString(dir.resolve("s3proxy.log"));
                deleteTree(dir);
                throw new IllegalStateException("s3proxy did not start:\n" + log);
            }
            Thread.sleep(100);
        }
        return new S3Server(process, dir, port);
    }

    /** Removes the machine's AWS, proxy and Java option variables from {@code env}. */
    public static void hermetic(Map<String, String> env) {
        env.keySet().removeIf(name -> {
            String upper = name.toUpperCase(Locale.ROOT);
            return upper.startsWith("AWS") || upper.endsWith("_PROXY") || upper.equals("JAVA_TOOL_OPTIONS")
                    || upper.equals("JDK_JAVA_OPTIONS") || upper.equals("_JAVA_OPTIONS");
        });
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    public void createBucket(String bucket) {
        client.createBucket(b -> b.bucket(bucket)).join();
    }

    public void put(String bucket, String key, byte[] bytes) {
        try {
            client.putObject(b -> b.bucket(bucket).key(key), AsyncRequestBody.fromBytes(bytes)).join();
        } catch (CompletionException e) {
            throw new IllegalStateException("PUT " + bucket + "/" + key + " failed: " + e.getCause(), e);
        }
    }

    public void delete(String bucket, String key) {
        client.deleteObject(b -> b.bucket(bucket).key(key)).join();
    }

    /** The ETag of an object, without quotes. */
    public String etag(String bucket, String key) {
        return ObjectStore.unquoted(client.headObject(b -> b.bucket(bucket).key(key)).join().eTag());
    }

    /**
     * An object of {@code size} bytes that are all zero but for {@code tail} at its end, written
     * straight into the backend's directory as a sparse file: a 5 GiB upload would take minutes
     * and gigabytes. The backend keeps an object's ETag in an extended attribute of its file, set
     * here as an upload would.
     */
    public void putSparse(String bucket, String key, long size, byte[] tail) throws IOException {
        Path file = dir.resolve("objects").resolve(bucket).resolve(key);
        Files.createDirectories(file.getParent());
        try (var channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(tail), size - tail.length);
        }
        byte[] md5 = new byte[16];
        new SplittableRandom(size).nextBytes(md5);
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class).write("user.content-md5",
                ByteBuffer.wrap(md5));
    }

    /** {@code size} pseudo-random bytes, different per seed. */
    public static byte[] bytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Stops the server (by its PID) and deletes its objects. */
    @Override
    public void close() throws IOException, InterruptedException {
        client.close();
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
        deleteTree(dir);
    }

    private static boolean answers(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }


    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<IOException> problems = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    problems.add(e);
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
        if (!problems.isEmpty()) {
            throw problems.getFirst();
        }
    }

    /** How long to wait for the server in tests that poll it. */
    public static final Duration PATIENCE = Duration.ofSeconds(30);
}
