package io.cachefs.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cachefs demo}: the product on generated files, end to end, cleaning up after itself. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class DemoCommandTest {
    private ScratchDir scratch;

    @BeforeEach
    void setUp() throws Exception {
        scratch = new ScratchDir();
    }

    @AfterEach
    void tearDown() throws Exception {
        scratch.close();
    }

    @Test
    void demoPrintsTheSpeedUpTableAndLeavesNoMountOrDirectoryBehind() throws Exception {
        // The demo's temporary directory goes here rather than in /tmp, so what it leaves behind
        // is told apart from other runs on the machine
        Path tmp = scratch.dir("tmp");
        try (DaemonProcess demo = DaemonProcess.start(scratch, List.of(), List.of("-Djava.io.tmpdir=" + tmp),
                "demo", "--files", "2", "--file-size", "16M", "--source-throttle", "200M")) {
            assertTrue(demo.awaitExit(Duration.ofSeconds(60)), "the demo finishes");
            String out = demo.stdout();
            assertEquals(0, demo.exitValue(), "stdout:\n" + out + "\nstderr:\n" + demo.stderr());
            String header = out.lines().filter(line -> line.contains("speed-up")).findFirst()
                    .orElseThrow(() -> new AssertionError("no table header in:\n" + out));
            assertTrue(header.contains("source read") && header.contains("memory hit")
                    && header.contains("remote memory hit"), header);
            for (String name : List.of("model-1.safetensors", "model-2.safetensors")) {
                assertTrue(out.lines().anyMatch(line -> line.startsWith(name) && line.matches(".*\\d+x$")),
                        "a row with a speed-up for " + name + " in:\n" + out);
            }
            assertTrue(out.lines().anyMatch(line -> line.matches("all +32 MiB +\\S+ s \\([\\d,]+ MB/s\\)( +\\S+ s \\([\\d,]+ MB/s\\) +[\\d.]+x){2}.*")),
                    "a totals row in:\n" + out);
            assertTrue(out.lines().anyMatch(line -> line.matches("the reference \\(7.2 GB, scaled to 32 MiB\\): +0.42 s source"
                    + " +0.02 s memory \\(24x\\) +0.07 s remote memory \\(5.9x\\)")), "the reference scaled to 32 MiB in:\n" + out);
            assertTrue(out.lines().anyMatch(line -> line.matches("CacheFS here: +[\\d.]+ s source +[\\d.]+ s memory \\([\\d.]+x\\)"
                    + " +[\\d.]+ s remote memory \\([\\d.]+x\\)")), out);
            assertTrue(out.contains("bytes read from the source: 32 MiB by the first instance, 0 B by the second"), out);
            assertTrue(out.contains("every byte matched the source"), out);
        }
        assertEquals(List.of(), MountTable.mountsUnder(tmp), "the demo unmounted");
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "the demo deleted its cachefs-demo directory");
        }
    }
}
