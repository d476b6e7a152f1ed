package io.cachefs.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The {@code cachefs_*} meters of one mount. Every meter reads the snapshot taken by the last
 * {@link #refresh()}, so the series of one scrape all come from a single {@code metrics()} call
 * and agree with each other (hits and misses, bytes by tier).
 *
 * <p>Micrometer holds the state of function meters weakly: whoever binds a mount keeps its
 * {@code MountMeters} reachable for as long as the registry is scraped.
 *
 * <p>Exposed names are fixed by the Prometheus naming convention: dots become underscores, the
 * base unit is appended unless the name already ends with it, and counters get {@code _total}.
 * {@code AdminServerTest} checks every exposed name.
 */
final class MountMeters {

    private static final String BYTES = "bytes";

    private final MonitoredMount mount;
    private final MeterRegistry registry;
    private final Tags mountTag;
    /** Peers whose traffic meters are registered; a member is registered when first seen. */
    private final Set<String> peersMetered = ConcurrentHashMap.newKeySet();
    /** Each peer as last reported, so that a member that left keeps its counters where they were. */
    private final Map<String, PeerMetrics.Member> lastSeen = new ConcurrentHashMap<>();
    private volatile MountMetrics latest = MountMetrics.NONE;

    private MountMeters(MonitoredMount mount, MeterRegistry registry) {
        this.mount = mount;
        this.registry = registry;
        this.mountTag = Tags.of("mount", mount.mountPoint());
    }

    /** Registers the mount's meters, tagged {@code mount=<mount point>}. */
    static MountMeters bind(MonitoredMount mount, MeterRegistry registry) {
        var meters = new MountMeters(mount, registry);
        meters.register(registry, meters.mountTag);
        return meters;
    }

    /** Takes the snapshot the next scrape reports; throws whatever {@code metrics()} throws. */
    void refresh() {
        latest = mount.metrics();
        for (PeerMetrics.Member member : latest.peer().members()) {
            lastSeen.put(member.address(), member);
            if (!member.self() && peersMetered.add(member.address())) {
                registerPeer(member.address());
            }
        }
    }

    /** The traffic with one member, tagged {@code peer=<host:port>}: what was fetched from it, sent to it, redirected by it. */
    private void registerPeer(String peer) {
        Tags tags = mountTag.and("peer", peer);
        counter(registry, "cachefs.peer.fetched.bytes", BYTES, "Block bytes fetched from a peer", tags,
                m -> member(m, peer).fetchedBytes());
        counter(registry, "cachefs.peer.sent.bytes", BYTES, "Block bytes sent to a peer", tags,
                m -> member(m, peer).servedBytes());
        counter(registry, "cachefs.peer.redirects", null,
                "Owner loads a peer answered with \"ask these members\" instead of the block", tags,
                m -> member(m, peer).redirects());
    }

    private PeerMetrics.Member member(MountMetrics metrics, String peer) {
        return lastSeen.getOrDefault(peer, new PeerMetrics.Member(peer, false, false, 0));
    }

    private void register(MeterRegistry registry, Tags mountTag) {
        String readHelp = "Bytes returned to readers, by the tier they came from";
        counter(registry, "cachefs.read.bytes", BYTES, readHelp, mountTag.and("tier", "memory"),
                MountMetrics::readBytesMemory);
        counter(registry, "cachefs.read.bytes", BYTES, readHelp, mountTag.and("tier", "peer"),
                MountMetrics::readBytesPeer);
        counter(registry, "cachefs.read.bytes", BYTES, readHelp, mountTag.and("tier", "source"),
                MountMetrics::readBytesSource);
        counter(registry, "cachefs.source.read.bytes", BYTES,
                "Bytes read from the source, readahead included", mountTag,
                MountMetrics::sourceReadBytes);
        counter(registry, "cachefs.evictions", null, "Blocks evicted to make room", mountTag,
                MountMetrics::evictions);
        counter(registry, "cachefs.passthrough.opens", null,
                "Opens served by FUSE passthrough from a fully cached file", mountTag,
                MountMetrics::passthroughOpens);
        counter(registry, "cachefs.uncached.read.bytes", BYTES,
                "Bytes loaded outside the capacity because pinned blocks left no room", mountTag,
                MountMetrics::uncachedReadBytes);
        counter(registry, "cachefs.cache.hits", null, "Block lookups found in memory", mountTag,
                MountMetrics::hits);
        counter(registry, "cachefs.cache.misses", null,
                "Block lookups that loaded or waited for a load", mountTag, MountMetrics::misses);
        gauge(registry, "cachefs.cache.bytes", BYTES, "Memory held by cached blocks", mountTag,
                MountMetrics::cacheBytes);
        gauge(registry, "cachefs.cache.capacity.bytes", BYTES, "Bound on cachefs_cache_bytes",
                mountTag, MountMetrics::capacityBytes);
        gauge(registry, "cachefs.blocks", null, "Blocks in memory", mountTag, MountMetrics::blocks);
        counter(registry, "cachefs.source.opens", null,
                "Files opened on the source: one per load stream, a request each on an object-storage mount",
                mountTag, m -> m.loading().opens());
        gauge(registry, "cachefs.source.read.rate", "bytes.per.second",
                "Aggregate source load rate last measured over busy streams", mountTag,
                m -> m.loading().bytesPerSecond());
        gauge(registry, "cachefs.load.streams", null, "Load streams running now", mountTag,
                m -> m.loading().streams());
        gauge(registry, "cachefs.load.target.streams", null, "Streams per file the adaptation uses now",
                mountTag, m -> m.loading().targetStreams());
        gauge(registry, "cachefs.load.in.flight", BYTES, "Bytes of blocks being loaded now", mountTag,
                m -> m.loading().bytesInFlight());
        counter(registry, "cachefs.load.abandoned", null,
                "Block loads given up on because the source did not answer within the source timeout", mountTag,
                m -> m.loading().abandonedLoads());
        for (String result : PeerMetrics.RESULTS) {
            counter(registry, "cachefs.peer.requests", null, "Block requests made to peers, by result",
                    mountTag.and("result", result), m -> m.peer().requests().getOrDefault(result, 0L));
        }
        counter(registry, "cachefs.peer.served.bytes", BYTES, "Block bytes sent to peers", mountTag,
                m -> m.peer().servedBytes());
        for (String event : PeerMetrics.PORT_EVENTS) {
            counter(registry, "cachefs.peer.port.events", null, "Misuse the peer port turned away, by event",
                    mountTag.and("event", event), m -> m.peer().portEvents().getOrDefault(event, 0L));
        }
        String membersHelp = "Members of the peer group as this instance sees them (itself counts as live)";
        gauge(registry, "cachefs.peer.members", null, membersHelp, mountTag.and("state", "live"),
                m -> m.peer().members().stream().filter(member -> member.self() || member.live()).count());
        gauge(registry, "cachefs.peer.members", null, membersHelp, mountTag.and("state", "down"),
                m -> m.peer().members().stream().filter(member -> !member.self() && !member.live()).count());
        counter(registry, "cachefs.failed.reads", null, "Reads answered EIO: the source failed, timed out or "
                + "changed under an open file", mountTag, m -> m.faults().failedReads());
        counter(registry, "cachefs.offline.opens", null, "Opens of fully cached files served while the source "
                + "did not answer", mountTag, m -> m.faults().offlineOpens());
        counter(registry, "cachefs.stale.metadata.answers", null, "Lookups and listings answered as last seen "
                + "because the source did not answer", mountTag, m -> m.faults().staleMetadataAnswers());
        counter(registry, "cachefs.source.unanswered", null, "Source stats and listings that timed out or failed "
                + "without an answer", mountTag, m -> m.faults().unansweredSourceCalls());
        gauge(registry, "cachefs.source.reachable", null, "1 while the source answers, 0 while it does not",
                mountTag, m -> m.faults().sourceReachable() ? 1 : 0);
        gauge(registry, "cachefs.fuse.workers", null, "FUSE workers running now (they grow while requests wait)",
                mountTag, m -> m.faults().workers());
        counter(registry, "cachefs.fuse.workers.died", null, "FUSE workers stopped by an unexpected error",
                mountTag, m -> m.faults().workersDied());
        gauge(registry, "cachefs.files.cached", null,
                "File versions with at least one block in memory", mountTag,
                MountMetrics::filesCached);
    }

    private void counter(MeterRegistry registry, String name, String unit, String help, Tags tags,
            ToDoubleFunction<MountMetrics> value) {
        FunctionCounter.builder(name, this, meters -> value.applyAsDouble(meters.latest))
                .baseUnit(unit)
                .description(help)
                .tags(tags)
                .register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String unit, String help, Tags tags,
            ToDoubleFunction<MountMetrics> value) {
        Gauge.builder(name, this, meters -> value.applyAsDouble(meters.latest))
                .baseUnit(unit)
                .description(help)
                .tags(tags)
                .register(registry);
    }
}
