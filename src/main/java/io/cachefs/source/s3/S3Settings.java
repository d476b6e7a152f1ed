package io.cachefs.source.s3;

import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.net.URISyntaxException;

/**
 * How to reach one bucket: what the URL, the flags and the standard AWS environment say, resolved
 * once. Credentials and the region are left to the AWS SDK's default chains (environment, shared
 * profile, container and instance credentials, web identity), so nothing new is learned for
 * CacheFS.
 *
 * @param bucket the bucket, as in {@code s3://BUCKET/PREFIX}
 * @param prefix the key prefix the mount shows as its root, without leading or trailing '/'; "" for
 *     the whole bucket
 * @param endpoint the S3 API endpoint, or null for AWS's own (by region)
 * @param pathStyle whether requests name the bucket in the path ({@code http://host/bucket/key})
 *     rather than in the host name; what S3-compatible servers on an IP address or localhost need
 * @param stallTimeout a GET that receives nothing for this long is replaced by a new one
 */
public record S3Settings(String bucket, String prefix, URI endpoint, boolean pathStyle, Duration stallTimeout) {

    /** Long enough for a busy store's pause, short enough to replace a dead connection several times within a read's timeout. */
    static final Duration MAX_STALL = Duration.ofSeconds(5);

    public S3Settings {
        Objects.requireNonNull(bucket, "bucket");
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(stallTimeout, "stallTimeout");
    }

    /**
     * The settings of one mount: {@code endpointFlag} ({@code --s3-endpoint}) before
     * {@code AWS_ENDPOINT_URL_S3} before {@code AWS_ENDPOINT_URL}; path-style when asked or when
     * the endpoint is an IP address or localhost (such a host has no bucket sub-domains). A GET is
     * replaced after a sixth of the source timeout without a byte, at most {@link #MAX_STALL}, so
     * that several replacements fit in the time a reader waits.
     *
     * @throws IllegalArgumentException if the endpoint is not an http(s) URL
     */
    public static S3Settings resolve(String bucket, String prefix, String endpointFlag, boolean pathStyleFlag,
                                     Duration sourceTimeout, Map<String, String> env) {
        String endpointText = endpointFlag;
        String from = "--s3-endpoint";
        for (String variable : new String[] {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
            if (isBlank(endpointText) && !isBlank(env.get(variable))) {
                endpointText = env.get(variable);
                from = variable;
            }
        }
        URI endpoint = isBlank(endpointText) ? null : endpoint(from, endpointText.strip());
        boolean pathStyle = pathStyleFlag || (endpoint != null && isAddressOrLocalhost(endpoint.getHost()));
        Duration stall = sourceTimeout.dividedBy(6);
        stall = stall.compareTo(MAX_STALL) > 0 ? MAX_STALL : stall.compareTo(Duration.ofMillis(200)) < 0
                ? Duration.ofMillis(200) : stall;
        return new S3Settings(bucket, prefix, endpoint, pathStyle, stall);
    }

    /** The URL this mount mirrors, as the user wrote it. */
    public String url() {
        return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
    }

    /** Where requests go, for messages: the endpoint, or "AWS S3". */
    String endpointName() {
        return endpoint == null ? "AWS S3" : endpoint.toString();
    }

    private static URI endpoint(String from, String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(from + " \"" + text + "\" is not a URL: use e.g. http://127.0.0.1:9000 "
                    + "or https://s3.eu-central-1.amazonaws.com");
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                || uri.getHost() == null) {
            throw new IllegalArgumentException(from + " \"" + text + "\" is not an http:// or https:// URL with a host: "
                    + "use e.g. http://127.0.0.1:9000 or https://s3.eu-central-1.amazonaws.com");
        }
        if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
            throw new IllegalArgumentException(from + " \"" + text + "\" has a path: give the endpoint only "
                    + "(scheme, host, port) and the bucket in the s3:// URL");
        }
        return uri;
    }

    private static boolean isAddressOrLocalhost(String host) {
        if (host.equals("localhost") || host.endsWith(".localhost")) {
            return true;
        }
        String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (!bare.contains(":") && !bare.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
            return false; // a name: not resolved here
        }
        try {
            InetAddress.ofLiteral(bare);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isBlank(String text) {
        return text == null || text.isBlank();
    }
}
