package io.cachefs.cli;

import io.cachefs.cache.AdoptionReport;
import io.cachefs.cache.BlockCache;
import io.cachefs.cache.CacheSettings;
import io.cachefs.cache.SourceLoader;
import io.cachefs.config.KernelCache;
import io.cachefs.config.HostPort;
import io.cachefs.config.MountSettings;
import io.cachefs.fs.CacheFs;
import io.cachefs.fs.CacheFsOptions;
import io.cachefs.fs.NodeKey;
import io.cachefs.fuse.FuseMount;
import io.cachefs.fuse.MountOptions;
import io.cachefs.admin.MountMetrics;
import io.cachefs.admin.PeerMetrics;
import io.cachefs.fuse.WorkerStats;
import io.cachefs.peer.Membership;
import io.cachefs.peer.PeerAddress;
import io.cachefs.peer.PeerGroup;
import io.cachefs.peer.PeerSpec;
import io.cachefs.peer.PeerTls;
import io.cachefs.peer.PeerToken;
import io.cachefs.source.CountingSource;
import io.cachefs.source.DeadlineSource;
import io.cachefs.source.Source;
import io.cachefs.source.SourceEntry;
import io.cachefs.source.Throttle;
import io.cachefs.source.ThrottledSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import io.cachefs.admin.MountContents;
import io.cachefs.admin.PreloadStatus;
import io.cachefs.config.ByteSize;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.time.Duration;

/**
 * One cache mount, running: the source (throttled and counted), the block cache, the filesystem
 * and its FUSE mount, wired together from {@link MountSettings} and closed in reverse order.
 */
final class RunningMount implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunningMount.class);
    /** What users of the mount get to finish their reads when the daemon stops. */
    private static final Duration UNMOUNT_GRACE = Duration.ofSeconds(5);

    final MountSettings settings;
    private final SourceConnection connection;
    private final CountingSource source;
    private final DeadlineSource metadata;
    private final BlockCache cache;
    private final CacheFs fs;
    private final FuseMount<NodeKey> mount;
    /** The peer group this mount belongs to, or null. */
    private final PeerGroup peers;
    private final CachedFileIndex files;
    /** The background preload of {@code --preload} globs, or null. */
    private volatile Preload preload;

    private RunningMount(MountSettings settings, SourceConnection connection, CountingSource source,
                         DeadlineSource metadata, BlockCache cache, CacheFs fs, FuseMount<NodeKey> mount,
                         PeerGroup peers, CachedFileIndex files) {
        this.files = files;
        this.settings = settings;
        this.connection = connection;
        this.source = source;
        this.metadata = metadata;
        this.cache = cache;
        this.fs = fs;
        this.mount = mount;
        this.peers = peers;
    }

    /**
     * Checks the source and the mount point, adopts what the cache store holds, then mounts.
     *
     * @param storeDir this mount's directory in the daemon's {@code --store-dir}, or null for memfds
     * @throws UserError for anything the user can fix (missing source, unknown bucket, busy mount point, ...)
     */
    static RunningMount start(MountSettings settings, Path storeDir) throws UserError {
        checkMountPoint(settings.mountPoint());
        SourceConnection connection = SourceConnection.open(settings, System.getenv());
        try {
            return start(settings, connection, storeDir);
        } catch (UserError | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    private static RunningMount start(MountSettings settings, SourceConnection connection, Path storeDir)
            throws UserError {
        Source local = connection.source();
        if (settings.sourceThrottleBytesPerSec() > 0) {
            local = new ThrottledSource(local, new Throttle(settings.sourceThrottleBytesPerSec()));
        }
        CountingSource source = new CountingSource(local);
        CacheSettings cacheSettings;
        try {
            cacheSettings = new CacheSettings(settings.capacityBytes(), (int) settings.blockSize(), storeDir,
                    settings.sourceTimeout());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        PeerGroup peers = settings.listen() == null ? null : joinPeers(settings, source);
        BlockCache cache;
        try {
            cache = new BlockCache(cacheSettings, peers != null ? peers.loader() : new SourceLoader(source),
                    settings.source().toString());
        } catch (IllegalArgumentException | IllegalStateException e) {
            if (peers != null) {
                peers.close();
            }
            throw new UserError(e.getMessage());
        }
        // the filesystem's metadata calls get a deadline; the cache's loads have their watchdog
        DeadlineSource metadata = new DeadlineSource(source, settings.sourceTimeout());
        try {
            adoptStore(settings, cache, metadata);
        } catch (RuntimeException e) {
            if (peers != null) {
                peers.close();
            }
            cache.close();
            metadata.close();
            throw e;
        }
        CacheFs fs = new CacheFs(metadata, cache, new CacheFsOptions(settings.passthrough(),
                settings.kernelCache() == KernelCache.KEEP, settings.readaheadBlocks(), settings.wholeFileFromBytes(),
                CacheFsOptions.DEFAULT_METADATA_TIMEOUT));
        MountOptions options = MountOptions.defaults(fsName(settings.source()), "cachefs")
                .withPassthrough(settings.passthrough());
        FuseMount<NodeKey> mount;
        try {
            if (peers != null) {
                peers.serve(cache, source);
            }
            mount = FuseMount.mount(settings.mountPoint(), fs, options);
        } catch (IOException e) {
            if (peers != null) {
                peers.close();
            }
            cache.close();
            metadata.close();
            throw new UserError(e.getMessage());
        }
        fs.attach(mount);
        LOG.info("serving {} on {} with {} of memory", settings.source(), settings.mountPoint(),
                ByteSize.format(settings.capacityBytes()));
        RunningMount running = new RunningMount(settings, connection, source, metadata, cache, fs, mount, peers,
                new CachedFileIndex(cache));
        running.preload = Preload.start(settings);
        return running;
    }

    /** Takes over the blocks a daemon before this one left in the store: before mounting, so they serve at once. */
    private static void adoptStore(MountSettings settings, BlockCache cache, Source source) {
        AdoptionReport report = cache.adopt(path -> source.stat(path)
                .filter(entry -> entry.kind() == SourceEntry.Kind.FILE).map(SourceEntry::version));
        if (report.foundAnything()) {
            LOG.info("{}: {}", settings.mountPoint(), report.describe());
        }
    }

    private static PeerGroup joinPeers(MountSettings settings, Source source) throws UserError {
        try {
            PeerToken token = PeerToken.read(settings.peerTokenFile());
            // read and checked once, before anything is mounted; one context for the whole group
            Optional<PeerTls> tls = Optional.ofNullable(settings.peerTls()).map(PeerTls::load);
            PeerAddress listen = PeerAddress.of(settings.listen().orHost(HostPort.ALL_INTERFACES));
            PeerGroup group = PeerGroup.join(listen, PeerSpec.of(settings.peers()), token, tls, source,
                    (int) settings.blockSize());
            LOG.info("joined the peer group {} as {}{}", settings.peers(), listen,
                    tls.isPresent() ? ", over mutual TLS" : "");
            return group;
        } catch (IOException | IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private static String fsName(Object source) {
        String name = "cachefs:" + source;
        return name.replace(',', '_').replace(' ', '_');
    }

    private static void checkMountPoint(Path mountPoint) throws UserError {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(mountPoint)) {
            // A live FUSE mount shows its files, but "not empty" would send the user to the wrong
            // fix: the FUSE layer reports it as already mounted, and says how to unmount it
            if (entries.iterator().hasNext() && !isFuseMountPoint(mountPoint)) {
                throw new UserError("mount point " + mountPoint + " is not empty: mount on an empty directory");
            }
        } catch (NotDirectoryException e) {
            throw new UserError("mount point " + mountPoint + " is not a directory: mount on an empty directory");
        } catch (FileSystemException e) {
            if (!"Transport endpoint is not connected".equals(e.getReason())
                    && Files.exists(mountPoint, LinkOption.NOFOLLOW_LINKS)) {
                throw new UserError("mount point " + mountPoint + " cannot be used: "
                        + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()));
            } // a stale mount is cleared by the FUSE layer; a missing directory is reported by it
        } catch (IOException e) {
            throw new UserError("mount point " + mountPoint + " cannot be used: " + e.getMessage());
        }
    }

    /** Whether a FUSE filesystem is mounted exactly on {@code path}, per /proc/self/mountinfo. */
    private static boolean isFuseMountPoint(Path path) throws IOException {
        String target = path.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            int dash = line.indexOf(" - ");
            String mounted = fields.length > 4 ? fields[4].replace("\\040", " ").replace("\\011", "\t")
                    .replace("\\012", "\n").replace("\\134", "\\") : "";
            if (dash > 0 && mounted.equals(target) && line.substring(dash + 3).startsWith("fuse")) {
                return true;
            }
        }
        return false;
    }

    Path mountPoint() {
        return settings.mountPoint();
    }

    /** The mount's snapshot for the admin endpoint: each package's own, passed through. */
    MountMetrics metrics() {
        WorkerStats workers = mount.workerStats();
        MountMetrics.Health health = new MountMetrics.Health(fs.staleMetadataAnswers(), metadata.unanswered(),
                metadata.reachable(), workers.running(), workers.peak(), workers.died());
        return new MountMetrics(cache.stats(), cache.loadStats(), fs.counts(), source.counts(), health, peerMetrics());
    }

    /** The files the cache holds whole, the largest first. */
    MountContents contents() {
        return files.contents();
    }

    /** How the preload is going; {@code none} when none was asked for. */
    PreloadStatus preloadStatus() {
        Preload job = preload;
        return job == null ? PreloadStatus.NONE : job.status();
    }

    /** The peer group's counters and members, as the admin endpoint reports them. */
    private PeerMetrics peerMetrics() {
        if (peers == null) {
            return PeerMetrics.NONE;
        }
        Map<String, Long> fetched = peers.fetchedBytesByPeer();
        Map<String, Long> served = peers.servedBytesByPeer();
        Map<String, Long> redirects = peers.redirectsByPeer();
        List<PeerMetrics.Member> members = new ArrayList<>();
        Set<String> named = new HashSet<>();
        for (Membership.MemberStatus m : peers.members()) {
            String name = m.address().toString();
            named.add(name);
            members.add(new PeerMetrics.Member(name, m.self(), m.live(), m.failures(), fetched.getOrDefault(name, 0L),
                    served.getOrDefault(name, 0L), redirects.getOrDefault(name, 0L)));
        }
        Set<String> others = new TreeSet<>(); // traffic with members outside this view (views differ for a while)
        others.addAll(fetched.keySet());
        others.addAll(served.keySet());
        others.addAll(redirects.keySet());
        others.removeAll(named);
        for (String name : others) {
            members.add(new PeerMetrics.Member(name, false, false, 0, fetched.getOrDefault(name, 0L),
                    served.getOrDefault(name, 0L), redirects.getOrDefault(name, 0L)));
        }
        return new PeerMetrics(peers.results(), peers.servedBytes(), members, peers.portEvents(),
                peers.passedOnBytes());
    }

    void awaitUnmount() throws InterruptedException {
        mount.awaitUnmount();
    }

    /**
     * Unmounts (waiting a little for the kernel to let go), leaves the group, then frees the
     * cache's memory. Readers that still wait on the source after the grace fail, so that a hung
     * source cannot hold the unmount.
     */
    @Override
    public void close() {
        Preload job = preload;
        if (job != null) {
            job.close();
        }
        if (!mount.unmount(UNMOUNT_GRACE)) {
            cache.close(); // fails readers waiting for loads: their workers return
            metadata.close(); // fails lookups waiting for the source
        }
        mount.close();
        if (peers != null) {
            peers.close();
        }
        cache.close();
    }
}
