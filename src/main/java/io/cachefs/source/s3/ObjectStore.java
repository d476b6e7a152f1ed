package io.cachefs.source.s3;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.net.UnknownHostException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 API as the source needs it: HEAD an object, LIST one level of a prefix, GET a range of
 * one version into memory. Owns the AWS SDK's async client (on Netty) and turns what it throws
 * into the source's exceptions: a missing key is {@link NoSuchFileException}, a refusal
 * {@link AccessDeniedException}, anything else an {@link IOException} naming the request.
 *
 * <p>Retries are ours, not the SDK's (its retry strategy is off): a metadata call is tried again
 * with {@link Backoff} on 5xx, 503 SlowDown, 429 and connection failures; a GET is resumed from
 * the last byte it delivered by {@link S3File}, which the SDK cannot do. Every request has a
 * deadline: metadata calls an attempt timeout, GETs the stall check in {@link S3File} (and
 * Netty's read timeout behind it).
 */
final class ObjectStore implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectStore.class);

    /** One HEAD or one LIST page: generous for a store under load, short next to a reader's patience. */
    static final Duration METADATA_ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
    /** A TCP connect that takes longer is to an address that will not answer. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Connections at once: every load stream (at most 64) may have {@link S3File#MAX_PARTS_IN_FLIGHT}
     * GETs out, and lookups go on beside them.
     */
    private static final int MAX_CONNECTIONS = 64 * S3File.MAX_PARTS_IN_FLIGHT + 32;
    /** S3's own page size: the most keys one LIST returns. */
    static final int PAGE_KEYS = 1000;

    /** An object as HEAD and LIST describe it. {@code etag} is without its quotes; may be empty. */
    record ObjectInfo(String key, long size, Instant lastModified, String etag) {}

    /** One page of a LIST with a delimiter: objects, the "sub-directories", and where the next page starts (or null). */
    record Page(List<ObjectInfo> objects, List<String> prefixes, String nextToken) {}

    private final S3AsyncClient client;
    private final S3Settings settings;
    private final Backoff backoff;

    private ObjectStore(S3AsyncClient client, S3Settings settings, Backoff backoff) {
        this.client = client;
        this.settings = settings;
        this.backoff = backoff;
    }

    /**
     * A client for {@code settings}' endpoint with the default credentials and region chains;
     * makes no request.
     */
    static ObjectStore open(S3Settings settings) {
        return open(settings, DefaultCredentialsProvider.builder().build(), region());
    }

    /** A client with the given credentials and region (tests give their own, whatever the machine has). */
    static ObjectStore open(S3Settings settings, AwsCredentialsProvider credentials, Region region) {
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder()
                .maxConcurrency(MAX_CONNECTIONS)
                .maxPendingConnectionAcquires(10_000)
                .connectionTimeout(CONNECT_TIMEOUT)
                // a backstop behind S3File's own stall check, which replaces a silent GET sooner
                .readTimeout(settings.stallTimeout().multipliedBy(2))
                .writeTimeout(METADATA_ATTEMPT_TIMEOUT)
                .connectionAcquisitionTimeout(METADATA_ATTEMPT_TIMEOUT.multipliedBy(3))
                // reads of up to 256 KiB rather than Netty's 64 KiB: each buffer costs the SDK's
                // publishers a round of signals and a heap copy, so fewer, larger ones save CPU;
                // not larger, or the SDK's heap copies become humongous objects of a small heap
                .putChannelOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64 << 10, 128 << 10, 256 << 10));
        S3AsyncClientBuilder builder = S3AsyncClient.builder()
                .httpClientBuilder(http)
                .credentialsProvider(credentials)
                .region(region)
                .forcePathStyle(settings.pathStyle())
                // ranged GETs have no whole-object checksum to check; the ETag is the version check
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .build());
        if (settings.endpoint() != null) {
            builder.endpointOverride(settings.endpoint());
        } else {
            builder.crossRegionAccessEnabled(true); // a bucket in another region than the default one
        }
        return new ObjectStore(builder.build(), settings, Backoff.DEFAULT);
    }

    /** The region the default chain finds (AWS_REGION, the profile), else us-east-1, which S3-compatible stores accept. */
    private static Region region() {
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException none) {
            return Region.US_EAST_1;
        }
    }

    S3Settings settings() {
        return settings;
    }

    /** The object at {@code key}, or empty if there is none. */
    Optional<ObjectInfo> head(String key) throws IOException {
        try {
            HeadObjectResponse head = retrying("HEAD " + key, () -> client.headObject(b -> b.bucket(settings.bucket())
                    .key(key).overrideConfiguration(o -> o.apiCallAttemptTimeout(METADATA_ATTEMPT_TIMEOUT))));
            return Optional.of(new ObjectInfo(key, head.contentLength(), head.lastModified(), unquoted(head.eTag())));
        } catch (NoSuchFileException missing) {
            return Optional.empty();
        }
    }

    /**
     * One page of the keys under {@code prefix}, grouped at the next '/' after it.
     *
     * @param token where the page starts, from the previous page; null for the first
     * @throws NoSuchFileException if the bucket does not exist
     */
    Page list(String prefix, String token, int maxKeys) throws IOException {
        ListObjectsV2Response page = retrying("LIST " + settings.bucket() + "/" + prefix,
                () -> client.listObjectsV2(b -> b.bucket(settings.bucket()).prefix(prefix).delimiter("/")
                        .maxKeys(maxKeys).continuationToken(token)
                        .overrideConfiguration(o -> o.apiCallAttemptTimeout(METADATA_ATTEMPT_TIMEOUT))));
        List<ObjectInfo> objects = new ArrayList<>(page.contents().size());
        for (S3Object object : page.contents()) {
            objects.add(new ObjectInfo(object.key(), object.size(), object.lastModified(), unquoted(object.eTag())));
        }
        List<String> prefixes = new ArrayList<>(page.commonPrefixes().size());
        for (CommonPrefix common : page.commonPrefixes()) {
            prefixes.add(common.prefix());
        }
        return new Page(objects, prefixes, Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null);
    }

    /**
     * One LIST of at most one key under {@code prefix}, tried up to three times over about a
     * second: null if it worked, else what the last try failed with, unwrapped, for the
     * {@link Probe} to explain.
     */
    Throwable probe(String prefix) {
        Throwable failure = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                client.listObjectsV2(b -> b.bucket(settings.bucket()).prefix(prefix).delimiter("/").maxKeys(1)
                        .overrideConfiguration(o -> o.apiCallAttemptTimeout(METADATA_ATTEMPT_TIMEOUT))).get();
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return e;
            } catch (ExecutionException e) {
                failure = unwrap(e);
                if (!retryable(failure) || failure instanceof SdkClientException && !(failure.getCause() instanceof IOException)) {
                    return failure;
                }
                try {
                    Thread.sleep(new Backoff(3, Duration.ofMillis(200), Duration.ofSeconds(1)).before(attempt + 1));
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    return stop;
                }
            }
        }
        return failure;
    }

    /** Starts one GET of {@code dst.byteSize()} bytes of {@code key} from {@code from}; see {@link RangeGet}. */
    RangeGet get(ObjectVersion object, long from, MemorySegment dst) {
        RangeGet get = new RangeGet(object, from, dst);
        get.start(client, settings.bucket());
        return get;
    }

    /** Runs {@code call} until it succeeds, fails for good, or {@link Backoff#attempts()} are spent. */
    private <T> T retrying(String what, Supplier<CompletableFuture<T>> call) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.get().get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(what + " was interrupted");
            } catch (ExecutionException e) {
                Throwable cause = unwrap(e);
                if (!retryable(cause) || attempt >= backoff.attempts()) {
                    throw failure(what, cause);
                }
                Duration wait = backoff.before(attempt + 1);
                LOG.debug("{} failed ({}): trying again in {} ms", what, describe(cause), wait.toMillis());
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(what + " was interrupted");
                }
            }
        }
    }

    /** Whether trying again may help: a server error, throttling, or a connection that failed or timed out. */
    static boolean retryable(Throwable failure) {
        if (failure instanceof S3Exception s3) {
            int status = s3.statusCode();
            return status >= 500 || status == 429 || status == 408
                    || "SlowDown".equals(errorCode(s3)) || "RequestTimeout".equals(errorCode(s3));
        }
        if (failure instanceof StallException) {
            return true;
        }
        if (failure instanceof SdkClientException || failure instanceof IOException
                || failure instanceof TimeoutException) {
            return !(rootCause(failure) instanceof UnknownHostException);
        }
        return false;
    }

    /** {@code failure} as the source reports it: what the request was, and what went wrong. */
    static IOException failure(String what, Throwable failure) {
        if (failure instanceof IOException io && !(failure instanceof StallException)) {
            return io;
        }
        if (failure instanceof S3Exception s3) {
            String detail = "HTTP " + s3.statusCode() + (errorCode(s3).isEmpty() ? "" : " " + errorCode(s3));
            if (s3.statusCode() == 404) {
                return new NoSuchFileException(what, null, detail);
            }
            if (s3.statusCode() == 403) {
                return new AccessDeniedException(what, null, detail);
            }
            return new IOException(what + " failed: " + detail);
        }
        return new IOException(what + " failed: " + describe(failure), failure);
    }

    /** A short account of a failure, for messages: the deepest cause usually says it best. */
    static String describe(Throwable failure) {
        if (failure instanceof S3Exception s3) {
            return "HTTP " + s3.statusCode() + (errorCode(s3).isEmpty() ? "" : " " + errorCode(s3));
        }
        Throwable root = rootCause(failure);
        String message = root.getMessage();
        // a user reads this: "Connection refused", not "java.net.ConnectException: Connection refused"
        return message == null || message.isBlank() ? root.getClass().getSimpleName().replace("Exception", "")
                : message.strip();
    }

    static String errorCode(S3Exception s3) {
        return s3.awsErrorDetails() == null || s3.awsErrorDetails().errorCode() == null ? ""
                : s3.awsErrorDetails().errorCode();
    }

    static Throwable unwrap(Throwable failure) {
        while ((failure instanceof CompletionException || failure instanceof ExecutionException)
                && failure.getCause() != null) {
            failure = failure.getCause();
        }
        return failure;
    }

    private static Throwable rootCause(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** An ETag as S3 sends it is quoted; the version keeps it bare. */
    static String unquoted(String etag) {
        if (etag == null) {
            return "";
        }
        String bare = etag.startsWith("W/") ? etag.substring(2) : etag;
        return bare.length() >= 2 && bare.startsWith("\"") && bare.endsWith("\"") ? bare.substring(1, bare.length() - 1)
                : bare;
    }

    @Override
    public void close() {
        client.close();
    }
}
