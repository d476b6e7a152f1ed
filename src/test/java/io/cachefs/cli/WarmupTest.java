package io.cachefs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cachefs.fuse.SourceMount;
import io.cachefs.warmup.FileState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.ArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cachefs warmup} as a separate process against a real daemon whose source counts every
 * byte read from it. Its stdout is a file here, not a terminal: plain lines.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class WarmupTest {
    private static final long MIB = 1 << 20;
    private static final long A = 96 * MIB;
    private static final long B = 64 * MIB;
    private static final long CONFIG = MIB + 17;

    private DaemonOverSource fixture;
    private ScratchDir scratch;
    private SourceMount source;
    private Path mount;

    @BeforeEach
    void setUp() throws Exception {
        fixture = DaemonOverSource.create();
        scratch = fixture.scratch;
        source = fixture.source;
        mount = fixture.mount;
        source.mkdir("models");
        source.addRandomFile("models/a.safetensors", A, 1);
        source.addRandomFile("models/b.safetensors", B, 2);
        source.addRandomFile("config.json", CONFIG, 3);
        source.addRandomFile("stuck.bin", 8 * MIB, 4);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            source.release("stuck.bin"); // its hung reads return, so the daemon stops at once
        } finally {
            fixture.close();
        }
    }

    private void startDaemon(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--capacity", "256M", "--source-throttle", "32M"));
        args.addAll(List.of(extra));
        fixture.mount(args.toArray(String[]::new));
    }

    private DaemonProcess warmup(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = "warmup";
        System.arraycopy(args, 0, command, 1, args.length);
        DaemonProcess process = DaemonProcess.start(scratch, List.of(), List.of(), command);
        assertTrue(process.awaitExit(Duration.ofSeconds(120)), "warmup did not end:\n" + process.stdout());
        return process;
    }

    @Test
    void loadsEveryFileOnceWithChangingProgressLinesAndASecondRunReadsNothing() throws Exception {
        startDaemon();
        DaemonProcess first = warmup("--mount", mount.toString(), "models/*.safetensors", "config.json");
        String out = first.stdout();
        assertEquals(0, first.exitValue(), out + first.stderr());
        assertEquals(A + B + CONFIG, source.bytesRead(), "each byte read from the source once");
        Matcher progress = Pattern.compile("^warmup: (\\S+ \\S+) of 161 MiB \\(\\d+%\\), [\\d,]+ MB/s, ETA \\S+; "
                + "memory \\S+ \\S+, peer 0 B, source \\S+ \\S+; \\d of 3 files$", Pattern.MULTILINE).matcher(out);
        Set<String> done = new LinkedHashSet<>();
        while (progress.find()) {
            done.add(progress.group(1));
        }
        assertTrue(done.size() >= 2, "the progress lines move: " + done + "\n" + out);
        for (String file : List.of("models/a.safetensors (96 MiB)", "models/b.safetensors (64 MiB)", "config.json (1 MiB)")) {
            assertTrue(Pattern.compile("^cached +" + Pattern.quote(file) + " in [\\d.]+ s: memory \\S+ \\S+, peer 0 B, "
                    + "source \\S+ \\S+$", Pattern.MULTILINE).matcher(out).find(), out);
        }
        assertTrue(out.contains("3 of 3 files cached, 161 MiB; read 161 MiB in "), out);
        // config.json is one block: the open's prefetch of block 0 may load it whole before the
        // warm-up's read asks, and that read is then a memory hit; the source was read once either way
        assertTrue(out.strip().endsWith("memory 0 B, peer 0 B, source 161 MiB")
                || out.strip().endsWith("memory 1 MiB, peer 0 B, source 160 MiB"), out);
        for (String file : List.of("models/a.safetensors", "models/b.safetensors", "config.json")) {
            assertTrue(FileState.of(mount.resolve(file)).whole(), file + " is held whole");
        }

        DaemonProcess second = warmup(mount.resolve("models").toString(), mount.resolve("config.json").toString());
        assertEquals(0, second.exitValue(), second.stderr());
        assertEquals("cached already  models/a.safetensors (96 MiB)\ncached already  models/b.safetensors (64 MiB)\n"
                + "cached already  config.json (1 MiB)\nall 3 files already cached (161 MiB); nothing to read\n",
                second.stdout());
        assertEquals(A + B + CONFIG, source.bytesRead(), "the second run read nothing");

        DaemonProcess json = warmup("--json", "--mount", mount.toString(), "models/a.safetensors");
        assertEquals(0, json.exitValue(), json.stderr());
        JsonNode document = new ObjectMapper().readTree(json.stdout());
        assertEquals("cached_before", document.path("results").get(0).path("outcome").asText());
        assertEquals(A, document.path("tiers").path("memory").asLong());
    }

    @Test
    void checkReportsWithoutReadingAndExitsOneWhenSomethingIsMissing() throws Exception {
        startDaemon();
        DaemonProcess warm = warmup("--mount", mount.toString(), "config.json");
        assertEquals(0, warm.exitValue(), warm.stderr());
        long before = source.bytesRead();
        DaemonProcess check = warmup("--check", "--mount", mount.toString(), "config.json", "models/b.safetensors");
        assertEquals(1, check.exitValue(), check.stderr());
        assertEquals("cached already  config.json (1 MiB)\nnot cached      models/b.safetensors (64 MiB)\n"
                + "1 of 2 files cached (1 MiB of 65 MiB)\n", check.stdout());
        assertEquals(before, source.bytesRead(), "--check reads nothing");
        assertFalse(FileState.of(mount.resolve("models/b.safetensors")).whole());
    }

    @Test
    void aFileTheSourceDoesNotServeIsNamedAndTheRunExitsOne() throws Exception {
        startDaemon("--source-timeout", "1s");
        source.hang("stuck.bin");
        DaemonProcess run = warmup("--mount", mount.toString(), "stuck.bin", "config.json");
        assertEquals(1, run.exitValue(), run.stdout() + run.stderr());
        assertTrue(run.stderr().contains("cachefs: " + mount.resolve("stuck.bin") + ": reading it failed after 0 bytes"),
                run.stderr());
        assertTrue(Pattern.compile("^FAILED +stuck.bin \\(8 MiB\\): reading it failed", Pattern.MULTILINE)
                .matcher(run.stdout()).find(), run.stdout());
        assertTrue(run.stdout().contains("1 of 2 files cached"), run.stdout());
        assertTrue(FileState.of(mount.resolve("config.json")).whole(), "the other file is cached all the same");
    }

    @Test
    void badInputIsExitTwoWithOneLine() throws Exception {
        startDaemon();
        Path elsewhere = scratch.file("elsewhere.bin", 10, 9);
        List<List<String>> cases = List.of(
                List.of(elsewhere.toString()),
                List.of("--mount", mount.toString(), "models/*.gguf"),
                List.of("--mount", mount.toString(), "missing.bin"),
                List.of("--mount", scratch.root().toString(), "config.json"),
                List.of("--mount", mount.toString(), "--parallel", "0", "config.json"));
        List<String> expected = List.of(
                "cachefs: " + elsewhere + " is not inside a cachefs mount (cachefs mounts here: ",
                "cachefs: models/*.gguf matches no file\n",
                "cachefs: missing.bin: no such file or directory\n",
                "cachefs: --mount " + scratch.root() + " is not a cachefs mount (cachefs mounts here: ",
                "cachefs: --parallel must be between 1 and 64, got 0\n");
        for (int i = 0; i < cases.size(); i++) {
            InProcessCli.Outcome outcome = InProcessCli.execute(
                    Stream.concat(Stream.of("warmup"), cases.get(i).stream())
                            .toArray(String[]::new));
            assertEquals(2, outcome.exit(), cases.get(i) + ": " + outcome.stderr());
            assertTrue(outcome.stderr().startsWith(expected.get(i)), cases.get(i) + ": " + outcome.stderr());
            assertEquals(1, outcome.stderr().lines().count(), outcome.stderr());
        }
        assertEquals(0, source.bytesRead(), "nothing was read");
    }
}
