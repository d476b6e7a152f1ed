/**
 * A bucket of an S3-compatible object store as a {@link io.cachefs.source.Source}:
 * {@link io.cachefs.source.s3.S3Source} shows the keys under a prefix as a read-only tree and
 * opens an object version as a handle whose reads are parallel ranged GETs with {@code If-Match}
 * on the ETag, written straight into the cache's memory, retried and resumed when the store
 * throttles, fails or stalls. {@link io.cachefs.source.s3.S3Settings} resolves the endpoint and
 * addressing from the flags and the standard AWS environment; credentials and region come from
 * the AWS SDK's default chains. The only package that knows the AWS SDK.
 */
package io.cachefs.source.s3;
