package io.cachefs.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Any bytes as a service file: the parser either gives mount settings or a {@link ConfigException}
 * whose message is one line, never another exception (a user would see a stack trace) nor a hang.
 * {@code bin/test} replays the seeds under src/test/resources; {@code .ci/run} also fuzzes it for
 * about half a minute ({@code JAZZER_FUZZ=1}).
 */
class ServiceFileFuzzTest {
    private static Path dir;
    private static Path file;

    @BeforeAll
    static void createFile() throws IOException {
        dir = Files.createTempDirectory("cachefs-fuzz-service");
        file = dir.resolve("service.json");
    }

    @AfterAll
    static void deleteFile() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "30s")
    void parsesOrSaysWhatIsWrongInOneLine(byte[] json) throws IOException {
        Files.write(file, json);
        try {
            ServiceConfig config = ServiceConfig.parse(file);
            for (MountSettings settings : config.toMountSettings(MountSettings.builder())) {
                assertNotNull(settings.source());
            }
        } catch (ConfigException e) {
            assertNotNull(e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }
}
