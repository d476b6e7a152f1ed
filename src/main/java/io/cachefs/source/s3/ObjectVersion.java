package io.cachefs.source.s3;

import io.cachefs.source.FileVersion;
import java.util.Objects;

/** One version of one object: the key it is stored under, and the file version it is mirrored as (its tag is the ETag). */
record ObjectVersion(String key, FileVersion version) {
    ObjectVersion {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(version, "version");
    }
}
