package io.cachefs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceConfigTest {

    /** The reference product's documented sample, with {@code SOURCE} and {@code MOUNT} to fill in. */
    private static final String EAS_SAMPLE = """
            {
              "name": "sd_webui_service",
              "metadata": { "instance": 1, "memory": 32000, "cpu": 8 },
              "containers": [ { "image": "eas-registry.cn-hangzhou.cr.aliyuncs.com/pai-eas/stable-diffusion-webui:4.2", "port": 8000, "script": "./webui.sh --listen --port 8000" } ],
              "storage": [
                { "mount_path": "SOURCE", "oss": { "path": "oss://examplebucket/data-oss", "readOnly": false } },
                { "mount_path": "MOUNT", "cache": { "capacity": "20G", "path": "SOURCE" } }
              ]
            }
            """;

    @TempDir
    Path temp;

    Path source;
    Path mount;
    Path serviceFile;

    @BeforeEach
    void createDirectories() throws IOException {
        source = Files.createDirectory(temp.resolve("data-oss"));
        mount = temp.resolve("data");
        serviceFile = temp.resolve("service.json");
    }

    private ServiceConfig parse(String json) throws IOException, ConfigException {
        Files.writeString(serviceFile, json.replace("SOURCE", source.toString()).replace("MOUNT", mount.toString()));
        return ServiceConfig.parse(serviceFile);
    }

    /** Parses {@code json}, expects a refusal, and checks it is one line that starts with the file. */
    private String refusal(String json) throws IOException {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(json));
        String message = e.getMessage();
        assertFalse(message.contains("\n"), "one line: " + message);
        String prefix = serviceFile + ": ";
        assertTrue(message.startsWith(prefix), message);
        return message.substring(prefix.length());
    }

    private static String cacheEntry(String cacheFields) {
        return """
                {"storage": [
                  {"mount_path": "SOURCE", "oss": {"path": "oss://b/d"}},
                  {"mount_path": "MOUNT", "cache": {%s}}
                ]}""".formatted(cacheFields);
    }

    @Test
    void referenceSampleParsesUnchanged() throws Exception {
        ServiceConfig config = parse(EAS_SAMPLE);

        assertEquals(serviceFile, config.file());
        CacheMount only = config.mounts().getFirst();
        assertEquals(1, config.mounts().size());
        assertEquals("storage[1]", only.field());
        assertEquals(new SourceLocation.Directory(source), only.source());
        assertEquals(mount, only.mountPoint());
        assertEquals(20L << 30, only.capacityBytes());
        assertEquals(OptionalLong.empty(), only.blockSize());
        assertTrue(only.listen().isEmpty());
        assertEquals(List.of(), only.peers());
    }

    @Test
    void referenceSampleBecomesMountSettingsOverTheDefaults() throws Exception {
        MountSettings.Builder defaults = MountSettings.builder().readaheadBlocks(16).adminAddress(":9100");

        MountSettings settings = parse(EAS_SAMPLE).toMountSettings(defaults).getFirst();

        assertEquals(new SourceLocation.Directory(source), settings.source());
        assertEquals(mount, settings.mountPoint());
        assertEquals(20L << 30, settings.capacityBytes());
        assertEquals(16, settings.readaheadBlocks());
        assertEquals(":9100", settings.adminAddress().toString());
        assertEquals(4L << 20, settings.blockSize());
    }

    @Test
    void unknownFieldsAnywhereAreIgnored() throws Exception {
        ServiceConfig config = parse("""
                {"future": {"x": [1, 2]}, "storage": [
                  {"mount_path": "MOUNT", "readOnly": true, "nfs": {"server": "x"},
                   "cache": {"capacity": "1G", "path": "SOURCE", "eviction": "lru", "ttl": 30}}
                ]}""");

        assertEquals(1L << 30, config.mounts().getFirst().capacityBytes());
    }

    @Test
    void optionalBlockSizeListenAndPeersAreRead() throws Exception {
        CacheMount mount = parse(cacheEntry("""
                "capacity": "8G", "path": "SOURCE", "block_size": "16M",
                "listen": ":7070", "peers": ["10.0.0.2:7070", "10.0.0.3:7070"],
                "peer_token_file": "/etc/cachefs/token\"""")).mounts().getFirst();

        assertEquals(OptionalLong.of(16L << 20), mount.blockSize());
        assertEquals(":7070", mount.listen().orElseThrow());
        assertEquals(List.of("10.0.0.2:7070", "10.0.0.3:7070"), mount.peers());
        MountSettings settings = mount.toMountSettings(MountSettings.builder());
        assertEquals(16L << 20, settings.blockSize());
        assertEquals(":7070", settings.listen().toString());
        assertEquals(mount.peers(), settings.peers());
        assertEquals(Path.of("/etc/cachefs/token"), settings.peerTokenFile());
    }

    @Test
    void peerTlsFilesAreReadBesideTheTokenAndTrustDefaultsToTheCertificate() throws Exception {
        CacheMount mount = parse(cacheEntry("""
                "capacity": "8G", "path": "SOURCE", "listen": ":7070", "peers": "10.0.0.2:7070",
                "peer_token_file": "/etc/cachefs/token", "peer_tls_cert": "/etc/cachefs/tls/tls.crt",
                "peer_tls_key": "/etc/cachefs/tls/tls.key"
                """)).mounts().getFirst();

        MountSettings settings = mount.toMountSettings(MountSettings.builder());
        assertEquals(new PeerTlsFiles(Path.of("/etc/cachefs/tls/tls.crt"), Path.of("/etc/cachefs/tls/tls.key"),
                Path.of("/etc/cachefs/tls/tls.crt")), settings.peerTls());
    }

    @Test
    void peersMayBeOneCommaSeparatedString() throws Exception {
        CacheMount mount = parse(cacheEntry("""
                "capacity": "8G", "path": "SOURCE", "peers": "a:1, b:2,"
                """)).mounts().getFirst();

        assertEquals(List.of("a:1", "b:2"), mount.peers());
    }

    @Test
    void capacityMayBeANumberOfBytes() throws Exception {
        assertEquals(1L << 30, parse(cacheEntry("\"capacity\": 1073741824, \"path\": \"SOURCE\""))
                .mounts().getFirst().capacityBytes());
    }

    @Test
    void aCachePathMayBeABucketAndTheS3FlagsApplyToItAlone() throws Exception {
        ServiceConfig config = parse("""
                {"storage": [
                  {"mount_path": "MOUNT", "cache": {"capacity": "1G", "path": "SOURCE"}},
                  {"mount_path": "/bucket-cache", "cache": {"capacity": "2G", "path": "s3://examplebucket/data-oss"}}
                ]}""");
        assertEquals(new SourceLocation.Bucket("examplebucket", "data-oss"), config.mounts().get(1).source());
        List<MountSettings> settings = config.toMountSettings(MountSettings.builder().s3Endpoint("http://127.0.0.1:9000"));
        assertEquals(null, settings.get(0).s3Endpoint(), "a directory mount takes no S3 endpoint");
        assertEquals("http://127.0.0.1:9000", settings.get(1).s3Endpoint());
    }

    @Test
    void everyCacheEntryBecomesAMountInFileOrder() throws Exception {
        Path otherSource = Files.createDirectory(temp.resolve("nas"));
        ServiceConfig config = parse("""
                {"storage": [
                  {"mount_path": "MOUNT", "cache": {"capacity": "1G", "path": "SOURCE"}},
                  {"mount_path": "/other-cache", "cache": {"capacity": "2G", "path": "%s"}}
                ]}""".formatted(otherSource));

        assertEquals(List.of("storage[0]", "storage[1]"), config.mounts().stream().map(CacheMount::field).toList());
        assertEquals(new SourceLocation.Directory(otherSource), config.mounts().get(1).source());
    }

    @Test
    void invalidCapacityNamesTheFieldAndTheAcceptedForms() throws IOException {
        assertEquals("storage[1].cache.capacity \"abc\" is not a size: "
                        + "use a number of bytes or a number with K, M, G or T, like 512M or 20G",
                refusal(cacheEntry("\"capacity\": \"abc\", \"path\": \"SOURCE\"")));
    }

    @Test
    void zeroCapacityIsRefused() throws IOException {
        assertTrue(refusal(cacheEntry("\"capacity\": \"0\", \"path\": \"SOURCE\""))
                .startsWith("storage[1].cache.capacity \"0\" is not a size greater than zero"));
    }

    @Test
    void missingCapacityIsRefused() throws IOException {
        assertEquals("storage[1].cache.capacity is missing: set it to the memory the cache may use, like \"20G\"",
                refusal(cacheEntry("\"path\": \"SOURCE\"")));
    }

    @Test
    void capacityOfTheWrongTypeIsRefused() throws IOException {
        assertEquals("storage[1].cache.capacity must be a size like \"20G\", got an array",
                refusal(cacheEntry("\"capacity\": [20], \"path\": \"SOURCE\"")));
    }

    @Test
    void missingMountPathIsRefused() throws IOException {
        assertEquals("storage[0].mount_path is missing: set it to the directory to mount the cache on",
                refusal("{\"storage\": [{\"cache\": {\"capacity\": \"1G\", \"path\": \"SOURCE\"}}]}"));
    }

    @Test
    void missingCachePathIsRefused() throws IOException {
        assertEquals("storage[1].cache.path is missing: set it to the source directory to mirror, or s3://BUCKET/PREFIX",
                refusal(cacheEntry("\"capacity\": \"1G\"")));
    }

    @Test
    void relativePathIsRefused() throws IOException {
        assertEquals("storage[1].cache.path \"data-oss\" is not an absolute path: write it starting with /",
                refusal(cacheEntry("\"capacity\": \"1G\", \"path\": \"data-oss\"")));
    }

    @Test
    void missingSourceDirectoryIsRefused() throws IOException {
        Path missing = temp.resolve("not-mounted");
        assertTrue(refusal(cacheEntry("\"capacity\": \"1G\", \"path\": \"" + missing + "\""))
                .startsWith("storage[1].cache.path " + missing + " does not exist"));
    }

    @Test
    void sourceThatIsAFileIsRefused() throws IOException {
        Path file = Files.writeString(temp.resolve("file"), "x");
        assertTrue(refusal(cacheEntry("\"capacity\": \"1G\", \"path\": \"" + file + "\""))
                .startsWith("storage[1].cache.path " + file + " is not a directory"));
    }

    @Test
    void invalidBlockSizeIsRefused() throws IOException {
        assertEquals("storage[1].cache.block_size \"3M\" is not a power of two between 64K and 64M: "
                        + "use 1M, 4M (the default) or 16M",
                refusal(cacheEntry("\"capacity\": \"1G\", \"path\": \"SOURCE\", \"block_size\": \"3M\"")));
    }

    @Test
    void peersOfTheWrongTypeAreRefused() throws IOException {
        assertEquals("storage[1].cache.peers[1] must be a host:port string, got the number 7",
                refusal(cacheEntry("\"capacity\": \"1G\", \"path\": \"SOURCE\", \"peers\": [\"a:1\", 7]")));
    }

    @Test
    void noCacheSectionIsRefused() throws IOException {
        assertTrue(refusal("{\"storage\": [{\"mount_path\": \"/x\", \"oss\": {\"path\": \"oss://b\"}}]}")
                .startsWith("no storage entry has a \"cache\" section"));
    }

    @Test
    void missingStorageArrayIsRefused() throws IOException {
        assertTrue(refusal("{\"name\": \"svc\"}").startsWith("there is no \"storage\" array"));
        assertEquals("storage must be an array of mounts, got the string \"x\"", refusal("{\"storage\": \"x\"}"));
    }

    @Test
    void storageEntryThatIsNotAnObjectIsRefused() throws IOException {
        assertEquals("storage[0] must be an object, got the number 5", refusal("{\"storage\": [5]}"));
    }

    @Test
    void sameMountPointTwiceIsRefused() throws IOException {
        assertTrue(refusal("""
                {"storage": [
                  {"mount_path": "MOUNT", "cache": {"capacity": "1G", "path": "SOURCE"}},
                  {"mount_path": "MOUNT/", "cache": {"capacity": "1G", "path": "SOURCE"}}
                ]}""").startsWith("storage[1].mount_path " + mount + " is already the mount point of storage[0]"));
    }

    @Test
    void invalidJsonNamesLineAndColumn() throws IOException {
        String message = refusal("{\n  \"storage\": [\n    {,\n  ]\n}");

        assertTrue(message.startsWith("not valid JSON at line 3, column 6: "), message);
    }

    @Test
    void duplicateKeysAndTrailingGarbageAreInvalidJson() throws IOException {
        assertTrue(refusal("{\"storage\": [], \"storage\": []}").contains("Duplicate field 'storage'"));
        assertTrue(refusal(EAS_SAMPLE + "}").startsWith("not valid JSON at line"));
    }

    @Test
    void emptyOrNonObjectFileIsRefused() throws IOException {
        assertEquals("the file is empty: expected a JSON object with a \"storage\" array", refusal(""));
        assertEquals("expected a JSON object with a \"storage\" array, got an array", refusal("[]"));
    }

    @Test
    void missingFileIsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> ServiceConfig.parse(temp.resolve("nope.json")));
        assertEquals(temp.resolve("nope.json") + ": no such file", e.getMessage());
    }

    @Test
    void invalidCombinationWithTheDefaultsNamesTheStorageEntry() throws Exception {
        ServiceConfig config = parse(cacheEntry("\"capacity\": \"1M\", \"path\": \"SOURCE\""));

        ConfigException e = assertThrows(ConfigException.class, () -> config.toMountSettings(MountSettings.builder()));
        assertEquals(serviceFile + ": storage[1]: capacity 1 MiB is smaller than one block (4 MiB): "
                + "raise the capacity or lower the block size", e.getMessage());
    }
}
