package io.cachefs.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Turns one service file into {@link CacheMount}s, or into a {@link ConfigException} that names
 * the JSON field at fault. Reads the JSON as a tree rather than binding it to classes, because
 * the tree knows where each value sits, which is what a good error message needs.
 */
final class ServiceFileParser {

    /** Duplicate keys and trailing garbage are mistakes in a hand-edited file; say so. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path file;

    ServiceFileParser(Path file) {
        this.file = file;
    }

    List<CacheMount> cacheMounts() throws ConfigException {
        JsonNode root = readTree();
        if (!root.isObject()) {
            throw error("expected a JSON object with a \"storage\" array, got " + describe(root));
        }
        JsonNode storage = root.path("storage");
        if (storage.isMissingNode() || storage.isNull()) {
            throw error("there is no \"storage\" array: add one with an entry that has a \"cache\" section");
        }
        if (!storage.isArray()) {
            throw error("storage must be an array of mounts, got " + describe(storage));
        }
        List<CacheMount> mounts = new ArrayList<>();
        Map<Path, String> mountPoints = new HashMap<>();
        for (int i = 0; i < storage.size(); i++) {
            String field = "storage[" + i + "]";
            JsonNode entry = storage.get(i);
            if (!entry.isObject()) {
                throw error(field + " must be an object, got " + describe(entry));
            }
            JsonNode cache = entry.path("cache");
            if (cache.isMissingNode() || cache.isNull()) {
                continue; // an OSS, NAS or other mount: not ours
            }
            if (!cache.isObject()) {
                throw error(field + ".cache must be an object, got " + describe(cache));
            }
            CacheMount mount = cacheMount(field, entry, cache);
            String earlier = mountPoints.putIfAbsent(mount.mountPoint(), field);
            if (earlier != null) {
                throw error(field + ".mount_path " + mount.mountPoint() + " is already the mount point of "
                        + earlier + ": give each cache its own mount point");
            }
            mounts.add(mount);
        }
        if (mounts.isEmpty()) {
            throw error("no storage entry has a \"cache\" section: add one like "
                    + "{\"mount_path\": \"/data\", \"cache\": {\"path\": \"/data-oss\", \"capacity\": \"20G\"}}");
        }
        return mounts;
    }

    private CacheMount cacheMount(String field, JsonNode entry, JsonNode cache) throws ConfigException {
        Path mountPoint = absolutePath(field + ".mount_path", entry.path("mount_path"),
                "set it to the directory to mount the cache on");
        SourceLocation source = sourceLocation(field + ".cache.path", cache.path("path"));
        long capacity = capacity(field + ".cache.capacity", cache.path("capacity"));
        OptionalLong blockSize = blockSize(field + ".cache.block_size", cache.path("block_size"));
        Optional<String> listen = optionalString(field + ".cache.listen", cache.path("listen"));
        List<String> peers = peers(field + ".cache.peers", cache.path("peers"));
        Optional<Path> tokenFile = optionalString(field + ".cache.peer_token_file", cache.path("peer_token_file"))
                .map(Path::of);
        Optional<PeerTlsFiles> tls = peerTls(field + ".cache", cache);
        List<String> preload = preload(field + ".cache.preload", cache.path("preload"));
        return new CacheMount(field, source, mountPoint, capacity, blockSize, listen, peers, tokenFile, tls, preload);
    }

    /** {@code peer_tls_cert}, {@code peer_tls_key} and {@code peer_tls_trust} of a cache section, beside the token. */
    private Optional<PeerTlsFiles> peerTls(String field, JsonNode cache) throws ConfigException {
        Path cert = optionalString(field + ".peer_tls_cert", cache.path("peer_tls_cert")).map(Path::of).orElse(null);
        Path key = optionalString(field + ".peer_tls_key", cache.path("peer_tls_key")).map(Path::of).orElse(null);
        Path trust = optionalString(field + ".peer_tls_trust", cache.path("peer_tls_trust")).map(Path::of).orElse(null);
        try {
            return PeerTlsFiles.of(cert, key, trust);
        } catch (IllegalArgumentException e) {
            throw error(field + ": " + e.getMessage());
        }
    }

    /** An s3:// URL, or a source directory that exists. */
    private SourceLocation sourceLocation(String field, JsonNode node) throws ConfigException {
        String text = requiredString(field, node, "set it to the source directory to mirror, or s3://BUCKET/PREFIX");
        if (text.contains("://")) {
            try {
                return SourceLocation.parse(text);
            } catch (IllegalArgumentException e) {
                throw error(field + ": " + e.getMessage());
            }
        }
        Path source = absolutePath(field, node, "");
        if (!Files.exists(source)) {
            throw error(field + " " + source + " does not exist: it must be the source directory"
                    + " (e.g. the OSS or NAS mount), mounted before the cache, or an s3:// URL");
        }
        if (!Files.isDirectory(source)) {
            throw error(field + " " + source + " is not a directory: it must be the source directory");
        }
        return new SourceLocation.Directory(source);
    }

    private Path absolutePath(String field, JsonNode node, String hint) throws ConfigException {
        String text = requiredString(field, node, hint);
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw error(field + " \"" + text + "\" is not a valid path: " + e.getReason());
        }
        if (!path.isAbsolute()) {
            throw error(field + " \"" + text + "\" is not an absolute path: write it starting with /");
        }
        return path.normalize();
    }

    private long capacity(String field, JsonNode node) throws ConfigException {
        if (node.isMissingNode() || node.isNull()) {
            throw error(field + " is missing: set it to the memory the cache may use, like \"20G\"");
        }
        long bytes;
        try {
            bytes = ByteSize.parsePositive(sizeText(field, node));
        } catch (IllegalArgumentException e) {
            throw error(field + " " + e.getMessage());
        }
        if (node.isNumber() && bytes < 1L << 20) {
            // "capacity": 20 is far more likely 20 GiB meant than 20 bytes
            throw error(field + " " + node.asText() + " is a number of bytes, too few to cache anything: write the "
                    + "size with its unit, like \"" + node.asText() + "G\"");
        }
        return bytes;
    }

    private OptionalLong blockSize(String field, JsonNode node) throws ConfigException {
        if (node.isMissingNode() || node.isNull()) {
            return OptionalLong.empty();
        }
        String text = sizeText(field, node);
        long blockSize;
        try {
            blockSize = ByteSize.parse(text);
        } catch (IllegalArgumentException e) {
            throw error(field + " " + e.getMessage());
        }
        Optional<String> problem = MountSettings.blockSizeProblem(blockSize);
        if (problem.isPresent()) {
            throw error(field + " \"" + text + "\" " + problem.get());
        }
        return OptionalLong.of(blockSize);
    }

    /** A size may be written as a string ("20G") or, in bytes, as a JSON number. */
    private String sizeText(String field, JsonNode node) throws ConfigException {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isIntegralNumber()) {
            return node.bigIntegerValue().toString();
        }
        throw error(field + " must be a size like \"20G\", got " + describe(node));
    }

    /** One glob, or a list of them; a string is not split (a glob may hold a comma: {a,b}). */
    private List<String> preload(String field, JsonNode node) throws ConfigException {
        List<String> globs = new ArrayList<>();
        if (node.isMissingNode() || node.isNull()) {
            return globs;
        }
        if (node.isTextual() && !node.asText().isBlank()) {
            globs.add(node.asText().strip());
            return globs;
        }
        if (!node.isArray()) {
            throw error(field + " must be a glob or a list of globs relative to mount_path, e.g. [\"*.safetensors\"], got "
                    + describe(node));
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode glob = node.get(i);
            if (!glob.isTextual() || glob.asText().isBlank()) {
                throw error(field + "[" + i + "] must be a glob string, got " + describe(glob));
            }
            globs.add(glob.asText().strip());
        }
        return globs;
    }

    /** Peers may be a JSON array of addresses or one string of comma-separated addresses. */
    private List<String> peers(String field, JsonNode node) throws ConfigException {
        List<String> peers = new ArrayList<>();
        if (node.isMissingNode() || node.isNull()) {
            return peers;
        }
        if (node.isTextual()) {
            for (String peer : node.asText().split(",")) {
                if (!peer.isBlank()) {
                    peers.add(peer.strip());
                }
            }
            return peers;
        }
        if (!node.isArray()) {
            throw error(field + " must be a list of host:port strings, got " + describe(node));
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode peer = node.get(i);
            if (!peer.isTextual() || peer.asText().isBlank()) {
                throw error(field + "[" + i + "] must be a host:port string, got " + describe(peer));
            }
            peers.add(peer.asText().strip());
        }
        return peers;
    }

    private Optional<String> optionalString(String field, JsonNode node) throws ConfigException {
        if (node.isMissingNode() || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            throw error(field + " must be a string, got " + describe(node));
        }
        return Optional.of(node.asText());
    }

    private String requiredString(String field, JsonNode node, String hint) throws ConfigException {
        if (node.isMissingNode() || node.isNull()) {
            throw error(field + " is missing: " + hint);
        }
        if (!node.isTextual()) {
            throw error(field + " must be a string, got " + describe(node));
        }
        if (node.asText().isBlank()) {
            throw error(field + " is empty: " + hint);
        }
        return node.asText();
    }

    private JsonNode readTree() throws ConfigException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw error("no such file");
        } catch (IOException e) {
            throw error("cannot be read: " + e.getMessage());
        }
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || root.isMissingNode()) {
                throw error("the file is empty: expected a JSON object with a \"storage\" array");
            }
            return root;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw error("not valid JSON" + where + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw error("cannot be read: " + e.getMessage());
        }
    }

    private static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case STRING -> "the string \"" + node.asText() + "\"";
            case NUMBER -> "the number " + node.asText();
            case BOOLEAN -> node.asText();
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> "nothing";
        };
    }

    private ConfigException error(String problem) {
        return new ConfigException(file, problem);
    }
}
