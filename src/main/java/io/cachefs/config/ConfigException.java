package io.cachefs.config;

import java.nio.file.Path;

/**
 * A service file CacheFS cannot run from. The message is one line that names the file and the
 * JSON field at fault, e.g. {@code service.json: storage[1].mount_path is missing}, so the CLI
 * can print it as it is.
 */
public final class ConfigException extends Exception {

    public ConfigException(Path file, String problem) {
        super(file + ": " + oneLine(problem));
    }

    private static String oneLine(String text) {
        return text.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
