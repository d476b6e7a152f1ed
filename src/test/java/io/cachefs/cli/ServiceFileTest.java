package io.cachefs.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cachefs run --config} on the reference product's service JSON, as its documentation shows it. */
@Tag("mount") // mounts FUSE or starts daemons (root, /dev/fuse): not in bin/test --fast
class ServiceFileTest {
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
    void referenceDocsSampleRunsUnchangedButForPathsAndMirrorsTheSource() throws Exception {
        Path dataOss = scratch.dir("data-oss");
        scratch.file("data-oss/models/Stable-diffusion/v1-5.safetensors", (6L << 20) + 333, 1);
        scratch.file("data-oss/models/Lora/style.safetensors", 700_001, 2);
        scratch.text("data-oss/config.json", "{\"sd_model_checkpoint\": \"v1-5.safetensors\"}\n");
        scratch.text("data-oss/empty.txt", "");
        Path data = scratch.dir("data");
        // The sample from the reference docs, verbatim except for the two directories
        Path config = scratch.text("service.json", """
                {
                  "name": "sd_webui_service",
                  "metadata": {"instance": 1, "memory": 32000, "cpu": 8},
                  "containers": [
                    {
                      "image": "eas-registry.cn-hangzhou.cr.aliyuncs.com/pai-eas/stable-diffusion-webui:4.2",
                      "port": 8000,
                      "script": "./webui.sh --listen --port 8000"
                    }
                  ],
                  "storage": [
                    {"mount_path": "%s", "oss": {"path": "oss://examplebucket/data-oss", "readOnly": false}},
                    {"mount_path": "%s", "cache": {"capacity": "20G", "path": "%s"}}
                  ]
                }
                """.formatted(dataOss, data, dataOss));

        try (DaemonProcess daemon = DaemonProcess.start(scratch, List.of(data), List.of(),
                "run", "--config", config.toString()).awaitMounted(Duration.ofSeconds(20))) {
            Map<String, String> expected = Digests.tree(dataOss);
            assertEquals(8, expected.size(), "the source as written (root, 3 directories, 4 files): " + expected);
            assertEquals(expected, Digests.tree(data), "the cache mount mirrors the source: names, sizes, SHA-256");
            assertFalse(MountTable.isMountPoint(dataOss), "the oss entry is not ours to mount");

            daemon.terminate();
            assertTrue(daemon.awaitExit(Duration.ofSeconds(20)), "the daemon exits within 20 s of SIGTERM");
            assertFalse(MountTable.isMountPoint(data), "SIGTERM unmounts " + data + "; stderr:\n" + daemon.stderr());
            assertEquals(0, Files.list(data).count(), "the mount point is an empty directory again");
        }
    }
}
