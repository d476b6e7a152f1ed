package io.cachefs.cli;

import io.cachefs.config.ByteSize;
import io.cachefs.config.Durations;
import io.cachefs.config.KernelCache;
import io.cachefs.config.MountSettings;
import io.cachefs.config.PeerTlsFiles;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The tuning flags shared by {@code mount} and {@code run}; defaults are MountSettings'. */
final class MountOptionsMixin {
    @Option(names = "--block-size", paramLabel = "SIZE", description = "Unit of caching and source reads (default 4M).")
    Size blockSize;

    @Option(names = "--readahead", paramLabel = "BLOCKS",
            description = "Blocks loaded ahead of a sequential reader (default 8).")
    Integer readahead;

    @Option(names = "--whole-file-from", paramLabel = "SIZE|off",
            description = "Load a file whole in the background when it is opened, if it is at least SIZE "
                    + "(default 64M; 0: every file; off: only readahead).")
    String wholeFileFrom;

    @Option(names = "--prefetch-on-open", description = "Load every file whole when it is opened (--whole-file-from 0).")
    boolean prefetchOnOpen;

    @Option(names = "--source-timeout", paramLabel = "DURATION",
            description = "How long a read waits for a source that sends nothing before it fails with EIO, "
                    + "e.g. 30s (the default) or 2m.")
    String sourceTimeout;

    @Option(names = "--kernel-cache", paramLabel = "keep|off",
            description = "Kernel page cache for files served by READ: off (direct I/O: one copy per read, "
                    + "nothing held twice; the default) or keep (repeat reads of files not fully cached at "
                    + "page-cache speed, but a file may sit in RAM twice).")
    String kernelCache;

    @Option(names = "--no-passthrough", description = "Serve fully cached files by READ requests instead of FUSE passthrough.")
    boolean noPassthrough;

    @Option(names = "--store-dir", paramLabel = "DIR",
            description = "Keep cached blocks in files in this tmpfs directory instead of memfds.")
    Path storeDir;

    @Option(names = "--source-throttle", paramLabel = "RATE",
            description = "Limit source reads to RATE bytes per second, e.g. 100M (for demos and tests).")
    Size sourceThrottle;

    @Option(names = "--admin", paramLabel = "HOST:PORT",
            description = "Serve /metrics (Prometheus) and /status (JSON) here, e.g. 127.0.0.1:9100; "
                    + ":9100 is loopback only, 0.0.0.0:9100 every interface (default off).")
    String admin;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Serve this instance's cached blocks to its peer group here, e.g. 10.0.0.5:7070; "
                    + ":7070 is every interface (private network only).")
    String listen;

    @Option(names = "--peers", paramLabel = "SPEC",
            description = "The peer group: a comma list of host:port, dns:NAME:PORT (every address of NAME, "
                    + "re-resolved) and file:PATH (one host:port a line, re-read). May include this instance.")
    String peers;

    @Option(names = "--peer-token-file", paramLabel = "FILE",
            description = "A file holding the group's shared secret; every member uses the same one.")
    Path peerTokenFile;

    @Option(names = "--peer-tls-cert", paramLabel = "FILE",
            description = "Speak TLS on the peer wire: the group's certificate (PEM), presented by every member, "
                    + "which also requires one from every client (mutual TLS). Needs --peer-tls-key.")
    Path peerTlsCert;

    @Option(names = "--peer-tls-key", paramLabel = "FILE",
            description = "The key of --peer-tls-cert, PEM in PKCS#8 (BEGIN PRIVATE KEY, unencrypted); convert a "
                    + "PKCS#1 or EC key with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem")
    Path peerTlsKey;

    @Option(names = "--peer-tls-trust", paramLabel = "FILE",
            description = "The certificates (a PEM bundle) a member's certificate must chain to "
                    + "(default: --peer-tls-cert itself, for one group certificate).")
    Path peerTlsTrust;

    @Option(names = "--preload", paramLabel = "GLOB",
            description = "Load the files matching GLOB (relative to the mount, e.g. '*.safetensors' or '**.gguf') "
                    + "in the background once mounted; repeatable.")
    List<String> preload = new ArrayList<>();

    @Option(names = "--force", description = "Start even if the capacities add up to more memory than this machine "
            + "(or its container) has.")
    boolean force;

    @Option(names = "--s3-endpoint", paramLabel = "URL",
            description = "The S3 API endpoint of an s3:// source, e.g. http://127.0.0.1:9000 or "
                    + "https://oss-cn-hangzhou.aliyuncs.com (default: AWS_ENDPOINT_URL, else AWS S3).")
    String s3Endpoint;

    @Option(names = "--s3-path-style", description = "Address an s3:// source's bucket in the URL path, not the host "
            + "name (automatic for an IP address or localhost).")
    boolean s3PathStyle;

    /** The defaults with these flags applied; what a service file says overrides them per mount. */
    MountSettings.Builder applyTo(MountSettings.Builder builder) {
        if (blockSize != null) {
            builder.blockSize(blockSize.bytes());
        }
        if (readahead != null) {
            builder.readaheadBlocks(readahead);
        }
        if (kernelCache != null) {
            builder.kernelCache(switch (kernelCache) {
                case "keep" -> KernelCache.KEEP;
                case "off" -> KernelCache.OFF;
                default -> throw new IllegalArgumentException("--kernel-cache " + kernelCache
                        + " is not known: use keep or off");
            });
        }
        if (wholeFileFrom != null) {
            builder.wholeFileFromBytes(wholeFileFrom.equals("off") ? MountSettings.WHOLE_FILE_OFF
                    : sizeOf("--whole-file-from", wholeFileFrom));
        }
        if (prefetchOnOpen) {
            builder.wholeFileFromBytes(0);
        }
        if (sourceTimeout != null) {
            builder.sourceTimeout(Durations.parse("--source-timeout", sourceTimeout));
        }
        if (sourceThrottle != null) {
            builder.sourceThrottleBytesPerSec(sourceThrottle.bytes());
        }
        if (peers != null) {
            builder.peers(Arrays.stream(peers.split(",")).map(String::strip).filter(p -> !p.isEmpty()).toList());
        }
        if (listen != null) {
            builder.listen(listen);
        }
        if (peerTokenFile != null) {
            builder.peerTokenFile(peerTokenFile);
        }
        PeerTlsFiles.of(peerTlsCert, peerTlsKey, peerTlsTrust).ifPresent(builder::peerTls);
        if (!preload.isEmpty()) {
            builder.preload(preload);
        }
        if (s3Endpoint != null) {
            builder.s3Endpoint(s3Endpoint);
        }
        if (s3PathStyle) {
            builder.s3PathStyle(true);
        }
        return builder.passthrough(!noPassthrough).storeDir(storeDir).adminAddress(admin);
    }

    private static long sizeOf(String flag, String text) {
        try {
            return ByteSize.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + " " + e.getMessage() + ", or off");
        }
    }
}
