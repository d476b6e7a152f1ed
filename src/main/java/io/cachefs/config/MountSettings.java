package io.cachefs.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.nio.file.FileSystems;
import java.util.regex.PatternSyntaxException;

/**
 * Everything one cache mount needs to run: which source it mirrors, where it is mounted, how
 * much memory it may hold and how it reads. Whatever filled it (command-line flags or a service
 * file), a {@code MountSettings} that exists is valid; each refusal says what to change.
 *
 * <p>Paths are made absolute and normalized. Build one with {@link #builder()}, which starts
 * from the defaults.
 *
 * @param source the directory or bucket mirrored
 * @param capacityBytes the most bytes of file content held in memory
 * @param blockSize unit of caching and of source reads; a power of two, 64 KiB to 64 MiB
 * @param readaheadBlocks blocks fetched ahead of a sequential reader, 0 to 256
 * @param wholeFileFromBytes opening a file at least this large starts loading all of it in the
 *     background; {@link #WHOLE_FILE_OFF} for never
 * @param sourceTimeout how long a read waits for a source that sends nothing before it fails
 * @param passthrough whether fully cached files are served by the kernel (FUSE passthrough)
 * @param storeDir a tmpfs directory for the memory-backed block files, or null for memfd
 * @param sourceThrottleBytesPerSec a limit on source reads, 0 for none
 * @param adminAddress where the metrics and status endpoint listens, or null for none; an empty
 *     host ({@code :9100}) means {@link HostPort#LOOPBACK}: metrics go on the network only when
 *     asked for by address
 * @param listen where the peer block server listens, or null for no peer group; an empty host
 *     ({@code :7070}) means {@link HostPort#ALL_INTERFACES}: the other members must reach it
 * @param peers the peer group: host:port, dns:NAME:PORT and file:PATH items
 * @param peerTokenFile a file holding the group's shared secret; required with {@code listen}
 * @param peerTls the group's TLS files, or null for plain TCP on the peer wire; only with {@code listen}
 * @param preload globs relative to the mount point whose files are loaded in the background
 *     once mounted
 * @param s3Endpoint the S3 API endpoint of an {@code s3://} source, as given, or null for the
 *     environment's ({@code AWS_ENDPOINT_URL}) or AWS's own
 * @param s3PathStyle whether an {@code s3://} source is addressed path-style even when its endpoint
 *     is a host name
 */
public record MountSettings(
        SourceLocation source,
        Path mountPoint,
        long capacityBytes,
        long blockSize,
        int readaheadBlocks,
        long wholeFileFromBytes,
        Duration sourceTimeout,
        KernelCache kernelCache,
        boolean passthrough,
        Path storeDir,
        long sourceThrottleBytesPerSec,
        HostPort adminAddress,
        HostPort listen,
        List<String> peers,
        Path peerTokenFile,
        PeerTlsFiles peerTls,
        List<String> preload,
        String s3Endpoint,
        boolean s3PathStyle) {

    /** Large enough that a model file loads in few source requests, small enough to evict finely. */
    public static final long DEFAULT_BLOCK_SIZE = 4L << 20;
    /** 8 blocks of 4 MiB: 32 MiB in flight keeps a slow source busy for one sequential reader. */
    public static final int DEFAULT_READAHEAD_BLOCKS = 8;
    /** Below this, per-block bookkeeping and request overhead dominate. */
    public static final long MIN_BLOCK_SIZE = 64L << 10;
    /** Above this, one miss makes a reader wait too long and eviction is too coarse. */
    public static final long MAX_BLOCK_SIZE = 64L << 20;
    /** 256 blocks is already a gigabyte in flight at the default block size. */
    public static final int MAX_READAHEAD_BLOCKS = 256;
    /**
     * 64 MiB: a model file (checkpoint, LoRA, shard) is read whole, and loading it whole at once
     * makes a loader that reads it out of order (mmap, safetensors in header order, threads) as
     * fast as a sequential one; smaller files (configs, tokenizers) are left to readahead.
     */
    public static final long DEFAULT_WHOLE_FILE_FROM = 64L << 20;
    /** {@code wholeFileFromBytes} for "never load a file whole on open". */
    public static final long WHOLE_FILE_OFF = Long.MAX_VALUE;
    /** Long enough for a slow object store's worst GET, short enough that a hung one does not look like a hang. */
    public static final Duration DEFAULT_SOURCE_TIMEOUT = Duration.ofSeconds(30);

    public MountSettings {
        if (source == null) {
            throw new IllegalArgumentException("no source directory given: name the directory to mirror");
        }
        if (mountPoint == null) {
            throw new IllegalArgumentException("no mount point given: name the directory to mount the cache on");
        }
        mountPoint = mountPoint.toAbsolutePath().normalize();
        if (source instanceof SourceLocation.Directory directory) {
            checkMountPointApartFromSource(directory.path(), mountPoint);
        }
        if (!(source instanceof SourceLocation.Bucket) && (s3Endpoint != null || s3PathStyle)) {
            throw new IllegalArgumentException((s3Endpoint != null ? "--s3-endpoint" : "--s3-path-style")
                    + " is for an s3:// source, and " + source + " is a directory: drop it, or give --source "
                    + "s3://BUCKET/PREFIX");
        }
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacity must be greater than zero, got " + capacityBytes
                    + " bytes: give the memory to use, like 20G");
        }
        blockSizeProblem(blockSize).ifPresent(problem -> {
            throw new IllegalArgumentException("block size "
                    + (blockSize >= 0 ? ByteSize.format(blockSize) : blockSize + " bytes") + " " + problem);
        });
        if (capacityBytes < blockSize) {
            throw new IllegalArgumentException("capacity " + ByteSize.format(capacityBytes)
                    + " is smaller than one block (" + ByteSize.format(blockSize)
                    + "): raise the capacity or lower the block size");
        }
        if (readaheadBlocks < 0 || readaheadBlocks > MAX_READAHEAD_BLOCKS) {
            throw new IllegalArgumentException("readahead of " + readaheadBlocks + " blocks is out of range: use 0 (off) to "
                    + MAX_READAHEAD_BLOCKS);
        }
        if (wholeFileFromBytes < 0) {
            throw new IllegalArgumentException("whole-file threshold of " + wholeFileFromBytes
                    + " bytes is negative: use a size like 64M, 0 for every file, or off");
        }
        if (sourceTimeout == null || sourceTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("source timeout " + sourceTimeout
                    + " is too short: a source read can take a second; use e.g. 30s");
        }
        Objects.requireNonNull(kernelCache, "kernelCache");
        storeDir = storeDir == null ? null : storeDir.toAbsolutePath().normalize();
        if (sourceThrottleBytesPerSec < 0) {
            throw new IllegalArgumentException("source throttle of " + sourceThrottleBytesPerSec
                    + " bytes/s is negative: use 0 for no limit or a rate like 100M");
        }
        peers = peers == null ? List.of() : List.copyOf(peers);
        for (String peer : peers) {
            if (peer.isBlank()) {
                throw new IllegalArgumentException("a peer address is blank: list peers as host:port");
            }
        }
        if (!peers.isEmpty() && listen == null) {
            throw new IllegalArgumentException("--peers needs --listen HOST:PORT: the address this instance "
                    + "serves its blocks to the group on");
        }
        if (listen != null && peerTokenFile == null) {
            throw new IllegalArgumentException("--listen needs --peer-token-file FILE: a shared secret every "
                    + "member of the group reads, so that only members get blocks");
        }
        if (peerTls != null && listen == null) {
            throw new IllegalArgumentException("--peer-tls-cert needs --listen HOST:PORT and --peers SPEC: TLS is "
                    + "for the peer group's wire");
        }
        peerTokenFile = peerTokenFile == null ? null : peerTokenFile.toAbsolutePath().normalize();
        preload = preload == null ? List.of() : List.copyOf(preload);
        preload.forEach(MountSettings::checkPreloadGlob);
    }

    private static void checkPreloadGlob(String glob) {
        if (glob.isBlank() || glob.startsWith("/")) {
            throw new IllegalArgumentException("preload glob \"" + glob + "\" must be relative to the mount point, "
                    + "e.g. '*.safetensors', 'sdxl/**' or '**.gguf'");
        }
        try {
            FileSystems.getDefault().getPathMatcher("glob:" + glob);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("preload glob \"" + glob + "\" is not a glob: " + e.getDescription());
        }
    }

    /** A builder holding the defaults; source, mount point and capacity must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Why {@code blockSize} cannot be a block size, phrased to follow the value ("is not a power
     * of two ..."), or empty if it can.
     */
    static Optional<String> blockSizeProblem(long blockSize) {
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Long.bitCount(blockSize) != 1) {
            return Optional.of("is not a power of two between 64K and 64M: use 1M, 4M (the default) or 16M");
        }
        return Optional.empty();
    }

    private static void checkMountPointApartFromSource(Path source, Path mountPoint) {
        if (mountPoint.equals(source)) {
            throw new IllegalArgumentException("mount point " + mountPoint
                    + " is the source directory itself: mount the cache on another directory");
        }
        if (mountPoint.startsWith(source)) {
            throw new IllegalArgumentException("mount point " + mountPoint + " is inside the source directory "
                    + source + ": the mirror would contain itself; choose a mount point outside the source");
        }
        if (source.startsWith(mountPoint)) {
            throw new IllegalArgumentException("source directory " + source + " is inside the mount point "
                    + mountPoint + ": the mount would hide it; choose a mount point outside the source");
        }
    }

    private static HostPort parse(String what, String address) {
        return address == null ? null : HostPort.parse(what, address);
    }

    /**
     * Collects settings one at a time, as a command line or a service file supplies them, and
     * validates them all at {@link #build()}. Not thread-safe; {@link #copy()} one to derive
     * per-mount settings from shared defaults.
     */
    public static final class Builder {
        private SourceLocation source;
        private Path mountPoint;
        private long capacityBytes;
        private long blockSize = DEFAULT_BLOCK_SIZE;
        private int readaheadBlocks = DEFAULT_READAHEAD_BLOCKS;
        private long wholeFileFromBytes = DEFAULT_WHOLE_FILE_FROM;
        private Duration sourceTimeout = DEFAULT_SOURCE_TIMEOUT;
        private KernelCache kernelCache = KernelCache.OFF;
        private boolean passthrough = true;
        private Path storeDir;
        private long sourceThrottleBytesPerSec;
        private String adminAddress;
        private String listen;
        private List<String> peers = new ArrayList<>();
        private List<String> preload = new ArrayList<>();
        private Path peerTokenFile;
        private PeerTlsFiles peerTls;
        private String s3Endpoint;
        private boolean s3PathStyle;

        private Builder() {}

        public Builder source(Path source) { this.source = source == null ? null : new SourceLocation.Directory(source); return this; }
        public Builder sourceLocation(SourceLocation source) { this.source = source; return this; }
        public Builder mountPoint(Path mountPoint) { this.mountPoint = mountPoint; return this; }
        public Builder capacityBytes(long capacityBytes) { this.capacityBytes = capacityBytes; return this; }
        public Builder blockSize(long blockSize) { this.blockSize = blockSize; return this; }
        public Builder readaheadBlocks(int readaheadBlocks) { this.readaheadBlocks = readaheadBlocks; return this; }
        public Builder wholeFileFromBytes(long bytes) { this.wholeFileFromBytes = bytes; return this; }
        public Builder sourceTimeout(Duration sourceTimeout) { this.sourceTimeout = sourceTimeout; return this; }
        public Builder kernelCache(KernelCache kernelCache) { this.kernelCache = kernelCache; return this; }
        public Builder passthrough(boolean passthrough) { this.passthrough = passthrough; return this; }
        public Builder storeDir(Path storeDir) { this.storeDir = storeDir; return this; }
        public Builder sourceThrottleBytesPerSec(long bytesPerSec) { this.sourceThrottleBytesPerSec = bytesPerSec; return this; }
        public Builder adminAddress(String adminAddress) { this.adminAddress = adminAddress; return this; }
        public Builder listen(String listen) { this.listen = listen; return this; }
        public Builder peers(List<String> peers) { this.peers = new ArrayList<>(peers); return this; }
        public Builder peerTokenFile(Path peerTokenFile) { this.peerTokenFile = peerTokenFile; return this; }
        public Builder peerTls(PeerTlsFiles peerTls) { this.peerTls = peerTls; return this; }
        public Builder preload(List<String> globs) { this.preload = new ArrayList<>(globs); return this; }
        public Builder s3Endpoint(String s3Endpoint) { this.s3Endpoint = s3Endpoint; return this; }
        public Builder s3PathStyle(boolean s3PathStyle) { this.s3PathStyle = s3PathStyle; return this; }

        /** An independent builder with the same values. */
        public Builder copy() {
            Builder copy = new Builder();
            copy.source = source;
            copy.mountPoint = mountPoint;
            copy.capacityBytes = capacityBytes;
            copy.blockSize = blockSize;
            copy.readaheadBlocks = readaheadBlocks;
            copy.wholeFileFromBytes = wholeFileFromBytes;
            copy.sourceTimeout = sourceTimeout;
            copy.kernelCache = kernelCache;
            copy.passthrough = passthrough;
            copy.storeDir = storeDir;
            copy.sourceThrottleBytesPerSec = sourceThrottleBytesPerSec;
            copy.adminAddress = adminAddress;
            copy.listen = listen;
            copy.peers = new ArrayList<>(peers);
            copy.peerTokenFile = peerTokenFile;
            copy.peerTls = peerTls;
            copy.preload = new ArrayList<>(preload);
            copy.s3Endpoint = s3Endpoint;
            copy.s3PathStyle = s3PathStyle;
            return copy;
        }

        /** @throws IllegalArgumentException saying which setting to change and how */
        public MountSettings build() {
            return new MountSettings(source, mountPoint, capacityBytes, blockSize, readaheadBlocks,
                    wholeFileFromBytes, sourceTimeout, kernelCache, passthrough, storeDir, sourceThrottleBytesPerSec,
                    parse("admin address", adminAddress), parse("peer listen address", listen), peers, peerTokenFile,
                    peerTls, preload, s3Endpoint, s3PathStyle);
        }
    }
}
