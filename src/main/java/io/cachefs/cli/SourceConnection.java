package io.cachefs.cli;

import io.cachefs.config.MountSettings;
import io.cachefs.config.SourceLocation;
import io.cachefs.source.LocalDirSource;
import io.cachefs.source.Source;
import io.cachefs.source.s3.BucketAccessException;
import io.cachefs.source.s3.S3Settings;
import io.cachefs.source.s3.S3Source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The source a mount reads, checked before anything is mounted: a directory that exists and can
 * be read, or a bucket whose endpoint answers, whose credentials are accepted and which exists.
 * Closing it releases what it holds (an S3 client's connections and threads).
 *
 * @param source the source itself, before throttling and counting
 * @param resources what closing releases, or null
 */
record SourceConnection(Source source, AutoCloseable resources) implements AutoCloseable {

    /**
     * @param env the environment the S3 endpoint may come from ({@code AWS_ENDPOINT_URL})
     * @throws UserError naming what is wrong with the source and what to do
     */
    static SourceConnection open(MountSettings settings, Map<String, String> env) throws UserError {
        return switch (settings.source()) {
            case SourceLocation.Directory directory -> directory(directory.path());
            case SourceLocation.Bucket bucket -> bucket(bucket, settings, env);
        };
    }

    private static SourceConnection directory(Path path) throws UserError {
        if (!Files.exists(path)) {
            throw new UserError("source " + path + " does not exist: give the directory to mirror");
        }
        if (!Files.isDirectory(path)) {
            throw new UserError("source " + path + " is not a directory: give the directory to mirror");
        }
        if (!Files.isReadable(path)) {
            throw new UserError("source " + path + " is not readable by this user");
        }
        try {
            return new SourceConnection(new LocalDirSource(path), null);
        } catch (IOException e) {
            throw new UserError("source " + path + " cannot be read: " + e.getMessage());
        }
    }

    private static SourceConnection bucket(SourceLocation.Bucket bucket, MountSettings settings,
                                           Map<String, String> env) throws UserError {
        S3Settings s3;
        try {
            s3 = S3Settings.resolve(bucket.bucket(), bucket.prefix(), settings.s3Endpoint(), settings.s3PathStyle(),
                    settings.sourceTimeout(), env);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try {
            S3Source source = S3Source.connect(s3);
            return new SourceConnection(source, source);
        } catch (BucketAccessException e) {
            throw new UserError("source " + bucket + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (resources != null) {
            try {
                resources.close();
            } catch (Exception e) {
                // closing a client releases memory and threads; nothing is lost if it complains
            }
        }
    }
}
