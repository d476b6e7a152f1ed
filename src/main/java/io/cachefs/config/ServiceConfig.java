package io.cachefs.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The cache mounts a service file asks for. The file is the reference product's service JSON
 * (Alibaba Cloud EAS): a "storage" array whose entries with a "cache" section are memory-cache
 * mounts, so a service description written for it runs unchanged:
 *
 * <pre>{@code
 * "storage": [
 *   { "mount_path": "/data-oss", "oss": { "path": "oss://bucket/data-oss" } },
 *   { "mount_path": "/data", "cache": { "capacity": "20G", "path": "/data-oss" } }
 * ]
 * }</pre>
 *
 * Here {@code /data-oss} is the source directory and {@code /data} the cache mount. Every other
 * field, and every entry without a "cache" section, is someone else's business and ignored.
 *
 * @param file the service file, as named by the user (error messages start with it)
 * @param mounts the cache mounts, in the file's order; never empty
 */
public record ServiceConfig(Path file, List<CacheMount> mounts) {

    public ServiceConfig {
        Objects.requireNonNull(file, "file");
        mounts = List.copyOf(mounts);
    }

    /**
     * Reads and checks a service file, including that each cache's source directory exists.
     *
     * @throws ConfigException with a one-line message naming the file and the field at fault
     */
    public static ServiceConfig parse(Path file) throws ConfigException {
        return new ServiceConfig(file, new ServiceFileParser(file).cacheMounts());
    }

    /**
     * The settings of every cache mount: {@code defaults} (typically from the command line, left
     * unchanged) overridden by what the file says.
     *
     * @throws ConfigException if a mount's settings are invalid, naming its storage entry
     */
    public List<MountSettings> toMountSettings(MountSettings.Builder defaults) throws ConfigException {
        List<MountSettings> settings = new ArrayList<>();
        for (CacheMount mount : mounts) {
            try {
                settings.add(mount.toMountSettings(defaults));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file, mount.field() + ": " + e.getMessage());
            }
        }
        return settings;
    }
}
