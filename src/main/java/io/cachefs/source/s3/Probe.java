package io.cachefs.source.s3;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The check before mounting: one LIST of the prefix, and what its failure means to the user.
 * Mounting a bucket that cannot be read would only show an empty tree, or hang the first ls.
 */
final class Probe {
    private Probe() {
    }

    static void check(ObjectStore store) throws BucketAccessException {
        S3Settings settings = store.settings();
        Throwable failure = store.probe(settings.prefix().isEmpty() ? "" : settings.prefix() + "/");
        if (failure == null) {
            return;
        }
        throw new BucketAccessException(explain(settings, failure));
    }

    static String explain(S3Settings settings, Throwable failure) {
        String where = settings.url() + " at " + settings.endpointName();
        if (failure instanceof S3Exception s3) {
            String code = ObjectStore.errorCode(s3);
            return switch (code) {
                case "NoSuchBucket" -> "bucket " + settings.bucket() + " does not exist at " + settings.endpointName()
                        + ": check the bucket name in the s3:// URL and the endpoint (--s3-endpoint, AWS_ENDPOINT_URL, "
                        + "AWS_REGION)";
                case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                     "AuthorizationHeaderMalformed", "InvalidSecurity" ->
                        "the credentials were refused by " + settings.endpointName() + " (" + code + "): check "
                                + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE";
                case "AccessDenied", "AllAccessDisabled" -> "access to " + where + " is denied (" + code + "): the "
                        + "credentials need s3:ListBucket and s3:GetObject on the bucket";
                default -> s3.statusCode() == 404
                        ? "bucket " + settings.bucket() + " was not found at " + settings.endpointName() + " (HTTP 404"
                                + (code.isEmpty() ? "" : " " + code) + "): check the bucket name and the endpoint"
                        : s3.statusCode() == 301 || "PermanentRedirect".equals(code)
                                ? "bucket " + settings.bucket() + " is in another region: set AWS_REGION to its region"
                                : "listing " + where + " failed (" + ObjectStore.describe(s3) + "): check the endpoint "
                                        + "and the credentials";
            };
        }
        if (failure instanceof SdkClientException sdk && sdk.getMessage() != null
                && sdk.getMessage().contains("Unable to load credentials")) {
            return "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or "
                    + "run where container, instance or web-identity credentials are provided";
        }
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof UnknownHostException) {
            return "cannot resolve the S3 endpoint of " + where + " (" + root.getMessage() + "): check --s3-endpoint, "
                    + "AWS_ENDPOINT_URL and the bucket name";
        }
        if (root instanceof ConnectException || root instanceof ClosedChannelException
                || root instanceof TimeoutException || failure instanceof SdkClientException) {
            return "cannot reach the S3 endpoint " + settings.endpointName() + " (" + ObjectStore.describe(failure)
                    + "): check --s3-endpoint or AWS_ENDPOINT_URL, and that the store is up";
        }
        return "listing " + where + " failed (" + ObjectStore.describe(failure) + ")";
    }
}
