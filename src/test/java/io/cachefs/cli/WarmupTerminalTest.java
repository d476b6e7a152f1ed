package io.cachefs.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cachefs warmup} on a terminal, read as a person sees it: tmux runs it in a 100x20
 * window and the test reads the screen while it runs.
 */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class WarmupTerminalTest {
    private static final long MIB = 1 << 20;
    private static final Pattern BAR = Pattern.compile(
            "^\\[#*-*\\] (\\S+ \\S+) / 160 MiB +(\\d+)% +[\\d,]+ MB/s +ETA \\d+:\\d\\d$", Pattern.MULTILINE);

    private final String session = "cachefs-warmup-test-" + ProcessHandle.current().pid();
    private DaemonOverSource fixture;

    @BeforeEach
    void setUp() throws Exception {
        fixture = DaemonOverSource.create();
        fixture.source.addRandomFile("a.safetensors", 96 * MIB, 1);
        fixture.source.addRandomFile("b.safetensors", 64 * MIB, 2);
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            tmux("kill-session", "-t", session);
        } finally {
            fixture.close();
        }
    }

    private static String tmux(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("tmux"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        return out;
    }

    @Test
    void showsABarWithBytesRateEtaAndTiersThatMovesAndIsGoneAtTheEnd() throws Exception {
        Path mount = fixture.mount;
        fixture.mount("--capacity", "256M", "--source-throttle", "24M");
        String java = ProcessHandle.current().info().command().orElse("java");
        Path script = fixture.scratch.text("warmup.sh", "#!/bin/bash\n'" + java + "' "
                + "--enable-native-access=ALL-UNNAMED -cp '" + System.getProperty("java.class.path") + "' "
                + Main.class.getName() + " warmup --mount '" + mount + "' '*.safetensors'\necho \"EXIT=$?\"\nsleep 60\n");
        tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "20", "bash " + script);

        Set<String> doneShown = new LinkedHashSet<>();
        List<String> screens = new ArrayList<>();
        String screen = "";
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!screen.contains("EXIT=") && System.nanoTime() < deadline) {
            Thread.sleep(300);
            screen = tmux("capture-pane", "-p", "-t", session);
            screens.add(screen);
            Matcher bar = BAR.matcher(screen);
            if (bar.find()) {
                doneShown.add(bar.group(1));
                assertTrue(Pattern.compile("^from memory \\S+ \\S+, peer 0 B, source \\S+ \\S+; \\d of 2 files$",
                        Pattern.MULTILINE).matcher(screen).find(), "the tiers line under the bar:\n" + screen);
                assertEquals(2, screen.lines().filter(line -> line.startsWith("[#") || line.startsWith("[-")
                        || line.startsWith("from ")).count(), "the bar is redrawn in place, not repeated:\n" + screen);
            }
        }
        assertTrue(screen.contains("EXIT=0"), "warmup ended with 0:\n" + screen);
        assertTrue(doneShown.size() >= 3, "the bar moved: " + doneShown + "\n" + String.join("\n----\n", screens));
        assertTrue(screen.contains("2 of 2 files cached, 160 MiB; read 160 MiB in "), screen);
        assertTrue(Pattern.compile("^cached +a.safetensors \\(96 MiB\\) in [\\d.]+ s: memory \\S+ \\S+, peer 0 B, source",
                Pattern.MULTILINE).matcher(screen).find(), screen);
        assertFalse(BAR.matcher(screen).find(), "the bar is gone once done:\n" + screen);
    }
}
