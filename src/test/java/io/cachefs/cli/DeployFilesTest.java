package io.cachefs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.cachefs.config.MountSettings;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import io.cachefs.config.SourceLocation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deployment files say what the README says: every Kubernetes manifest parses, the sidecar's
 * arguments are a command line {@code cachefs} accepts, and the ports, paths and flags agree with
 * the README's table and with each other; the Dockerfile and the systemd unit run what
 * {@code bin/cachefs} runs.
 */
class DeployFilesTest {
    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path KUBERNETES = ROOT.resolve("deploy/kubernetes");

    private static final List<JsonNode> manifests = new ArrayList<>();
    private static Map<String, String> readme;
    private static final Map<String, String> readmeRows = new LinkedHashMap<>();

    @BeforeAll
    static void read() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        try (Stream<Path> files = Files.list(KUBERNETES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(file.toFile())) {
                    while (docs.hasNext()) {
                        JsonNode doc = docs.next();
                        assertFalse(doc.path("apiVersion").asText().isEmpty(), file + ": apiVersion");
                        assertFalse(doc.path("kind").asText().isEmpty(), file + ": kind");
                        manifests.add(doc);
                    }
                }
            }
        }
        readme = settingsTable(Files.readString(ROOT.resolve("README.md")));
    }

    /** The README's "setting | value" table of the Kubernetes section, by the setting's first words. */
    private static Map<String, String> settingsTable(String text) {
        int section = text.indexOf("### Kubernetes and systemd");
        assertTrue(section >= 0, "the README has a Kubernetes section");
        Map<String, String> rows = new LinkedHashMap<>();
        Matcher row = Pattern.compile("^\\| ([^|(]+?) (?:\\([^|]*\\) )?\\| (.+) \\|$", Pattern.MULTILINE)
                .matcher(text.substring(section, text.indexOf("\n## ", section)));
        while (row.find()) {
            rows.put(row.group(1).strip(), row.group(2).strip());
            readmeRows.put(row.group(1).strip(), row.group());
        }
        return rows;
    }

    /** The value of a README row: the text in its first pair of backticks. */
    private static String readme(String setting) {
        String value = readme.get(setting);
        assertNotNull(value, "README row \"" + setting + "\" in " + readme.keySet());
        Matcher code = Pattern.compile("`([^`]+)`").matcher(value);
        assertTrue(code.find(), value);
        return code.group(1);
    }

    private static JsonNode kind(String kind) {
        List<JsonNode> found = manifests.stream().filter(m -> m.path("kind").asText().equals(kind)).toList();
        assertEquals(1, found.size(), "one " + kind);
        return found.getFirst();
    }

    private static JsonNode container(String name) {
        for (JsonNode container : kind("Deployment").path("spec").path("template").path("spec").path("containers")) {
            if (container.path("name").asText().equals(name)) {
                return container;
            }
        }
        throw new AssertionError("no container " + name);
    }

    private static List<String> args(JsonNode container) {
        List<String> args = new ArrayList<>();
        container.path("args").forEach(arg -> args.add(arg.asText()));
        return args;
    }

    private static String flag(List<String> args, String name) {
        int at = args.indexOf(name);
        assertTrue(at >= 0 && at + 1 < args.size(), name + " in " + args);
        return args.get(at + 1);
    }

    private static JsonNode volumeMount(JsonNode container, String volume) {
        for (JsonNode mount : container.path("volumeMounts")) {
            if (mount.path("name").asText().equals(volume)) {
                return mount;
            }
        }
        throw new AssertionError(container.path("name").asText() + " mounts no volume " + volume);
    }

    private static JsonNode volume(String name) {
        for (JsonNode volume : kind("Deployment").path("spec").path("template").path("spec").path("volumes")) {
            if (volume.path("name").asText().equals(name)) {
                return volume;
            }
        }
        throw new AssertionError("no volume " + name);
    }

    /** The volume mounted at the longest mount path holding {@code path}. */
    private static JsonNode volumeHolding(JsonNode container, String path) {
        JsonNode best = null;
        for (JsonNode mount : container.path("volumeMounts")) {
            String at = mount.path("mountPath").asText();
            if ((path.equals(at) || path.startsWith(at + "/"))
                    && (best == null || at.length() > best.path("mountPath").asText().length())) {
                best = mount;
            }
        }
        assertNotNull(best, path + " is on no volume of " + container.path("name").asText());
        return best;
    }

    private static int containerPort(JsonNode container, String name) {
        for (JsonNode port : container.path("ports")) {
            if (port.path("name").asText().equals(name)) {
                return port.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no port " + name);
    }

    @Test
    void theSidecarsArgumentsAreACommandLineCachefsAccepts() {
        List<String> args = args(container("cachefs"));
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
        MountCommand mount = (MountCommand) parsed.subcommand().commandSpec().userObject();
        MountSettings settings = mount.tuning.applyTo(MountSettings.builder())
                .sourceLocation(SourceLocation.parse(mount.source))
                .mountPoint(mount.mountPoint).capacityBytes(mount.capacity.bytes()).build();
        assertEquals(new SourceLocation.Directory(Path.of(readme("source"))), settings.source());
        assertEquals(Path.of(readme("the cache mount")), settings.mountPoint());
        assertEquals(Path.of(readme("block store")), settings.storeDir());
        assertEquals(Path.of(readme("token")), settings.peerTokenFile());
        assertEquals(List.of(readme("peers")), settings.peers());
        assertEquals("0.0.0.0:" + readme("admin port"), settings.adminAddress().toString());
        assertEquals("0.0.0.0:" + readme("peer port"), settings.listen().toString());
        // the pod's memory covers the capacity (the memory emptyDir is charged to it)
        String limit = container("cachefs").path("resources").path("limits").path("memory").asText();
        assertTrue(limit.endsWith("Gi"), limit);
        assertTrue(Long.parseLong(limit.replace("Gi", "")) << 30 >= settings.capacityBytes() + (256L << 20), limit);
    }

    @Test
    void portsAgreeAcrossArgumentsContainerServiceProbesAndAnnotations() {
        JsonNode cachefs = container("cachefs");
        int admin = Integer.parseInt(readme("admin port"));
        int peer = Integer.parseInt(readme("peer port"));
        assertEquals(admin, containerPort(cachefs, "admin"));
        assertEquals(peer, containerPort(cachefs, "peer"));
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
            assertEquals("admin", cachefs.path(probe).path("httpGet").path("port").asText(), probe);
            assertEquals("/status", cachefs.path(probe).path("httpGet").path("path").asText(), probe);
        }
        JsonNode annotations = kind("Deployment").path("spec").path("template").path("metadata").path("annotations");
        assertEquals("true", annotations.path("prometheus.io/scrape").asText());
        assertEquals(Integer.toString(admin), annotations.path("prometheus.io/port").asText());
        assertEquals("/metrics", annotations.path("prometheus.io/path").asText());

        JsonNode service = kind("Service");
        assertEquals("None", service.path("spec").path("clusterIP").asText(), "headless");
        assertEquals(peer, service.path("spec").path("ports").get(0).path("port").asInt());
        assertEquals("peer", service.path("spec").path("ports").get(0).path("targetPort").asText());
        assertEquals(kind("Deployment").path("spec").path("template").path("metadata").path("labels"),
                service.path("spec").path("selector"), "the Service selects the Deployment's pods");
        String peers = readme("peers");
        assertEquals("dns:" + service.path("metadata").path("name").asText() + ".default.svc.cluster.local:" + peer, peers);
    }

    @Test
    void pathsAreOnTheRightVolumesAndTheMountIsSharedWithTheApp() {
        JsonNode cachefs = container("cachefs");
        List<String> args = args(cachefs);
        String shared = readme("mount shared with the app");
        JsonNode mountVolume = volumeHolding(cachefs, flag(args, "--mount"));
        assertEquals(shared, mountVolume.path("mountPath").asText());
        assertEquals("Bidirectional", mountVolume.path("mountPropagation").asText());
        JsonNode app = volumeMount(container("webui"), mountVolume.path("name").asText());
        assertEquals(shared, app.path("mountPath").asText());
        assertEquals("HostToContainer", app.path("mountPropagation").asText());
        assertTrue(args(container("webui")).stream().anyMatch(arg -> arg.startsWith(flag(args, "--mount") + "/")),
                "the app reads its models from the cache mount: " + args(container("webui")));

        JsonNode store = volume(volumeHolding(cachefs, flag(args, "--store-dir")).path("name").asText());
        assertEquals("Memory", store.path("emptyDir").path("medium").asText(), "the block store is a memory emptyDir");

        Path token = Path.of(flag(args, "--peer-token-file"));
        JsonNode tokenMount = volumeHolding(cachefs, token.toString());
        JsonNode secretVolume = volume(tokenMount.path("name").asText());
        assertEquals(kind("Secret").path("metadata").path("name").asText(), secretVolume.path("secret").path("secretName").asText());
        assertTrue(kind("Secret").path("stringData").has(token.getFileName().toString()), "the Secret has key "
                + token.getFileName());
        assertTrue(readmeRows.get("token").contains("`" + kind("Secret").path("metadata").path("name").asText() + "`"));

        assertTrue(volumeHolding(cachefs, flag(args, "--source")).path("readOnly").asBoolean(), "the source is read-only");
        assertEquals("/dev/fuse", volume(volumeHolding(cachefs, "/dev/fuse").path("name").asText())
                .path("hostPath").path("path").asText());
        assertTrue(readmeRows.get("device and capability").contains("`/dev/fuse`"));
        JsonNode security = cachefs.path("securityContext");
        assertTrue(security.path("privileged").asBoolean(), "Bidirectional propagation needs a privileged container");
        assertEquals("SYS_ADMIN", security.path("capabilities").path("add").get(0).asText());
    }

    @Test
    void theKustomizationListsEveryManifest() throws IOException {
        Set<String> listed = new HashSet<>();
        kind("Kustomization").path("resources").forEach(r -> listed.add(r.asText()));
        try (Stream<Path> files = Files.list(KUBERNETES)) {
            Set<String> present = new HashSet<>(files.map(f -> f.getFileName().toString())
                    .filter(f -> f.endsWith(".yaml") && !f.equals("kustomization.yaml")).toList());
            assertEquals(present, listed);
        }
    }

    @Test
    void theImageAndTheUnitRunWhatBinCachefsRuns() throws IOException {
        String binCachefs = Files.readString(ROOT.resolve("bin/cachefs"));
        String daemonJvm = Files.readString(ROOT.resolve("bin/lib/setup.sh")).lines()
                .filter(l -> l.startsWith("CACHEFS_DAEMON_JVM=(")).findFirst().orElseThrow();
        String entry = Files.readString(ROOT.resolve("deploy/docker/cachefs"));
        assertTrue(binCachefs.contains("\"${CACHEFS_DAEMON_JVM[@]}\" ${CACHEFS_JAVA_OPTS:--Xmx256m}"), binCachefs);
        for (String option : List.of("--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1")) {
            assertTrue(daemonJvm.contains(option) && entry.contains(option), option);
        }
        assertTrue(entry.contains("${CACHEFS_JAVA_OPTS:--Xmx256m}"), entry);
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        assertTrue(dockerfile.contains("COPY deploy/docker/cachefs /usr/local/bin/cachefs"), dockerfile);
        assertTrue(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/cachefs\"]"), dockerfile);
        assertTrue(entry.contains("/opt/cachefs/cachefs.jar") && dockerfile.contains("/opt/cachefs/cachefs.jar"));
        assertTrue(dockerfile.contains("EXPOSE " + readme("admin port") + " " + readme("peer port")), dockerfile);
        assertTrue(dockerfile.contains("fuse3"), "fusermount3 for non-root mounts");
        assertEquals(container("cachefs").path("image").asText(), "cachefs:0.1.0");
        assertTrue(Files.readString(ROOT.resolve("README.md")).contains("docker build -t cachefs:0.1.0 ."));

        String unit = Files.readString(ROOT.resolve("deploy/systemd/cachefs@.service"));
        Matcher exec = Pattern.compile("^ExecStart=/opt/cachefs/bin/cachefs (.+) \\$CACHEFS_ARGS$", Pattern.MULTILINE)
                .matcher(unit);
        assertTrue(exec.find(), unit);
        String[] args = exec.group(1).replace("%i", "models").split(" ");
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args);
        RunCommand run = (RunCommand) parsed.subcommand().commandSpec().userObject();
        assertEquals(Path.of("/etc/cachefs/models.json"), run.config);
        assertTrue(unit.contains("EnvironmentFile=-/etc/cachefs/%i.env"), unit);
        assertTrue(unit.contains("KillSignal=SIGTERM") && unit.contains("Restart=on-failure"), unit);
        String readmeText = Files.readString(ROOT.resolve("README.md"));
        assertTrue(readmeText.contains("--config /etc/cachefs/NAME.json` as `cachefs@NAME`"), "the README says so");
        assertTrue(readmeText.contains("`/etc/cachefs/NAME.env`"));
    }
}
