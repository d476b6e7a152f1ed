package io.cachefs.admin;

import io.cachefs.cache.CacheCounter;
import io.cachefs.fs.ReadCounter;
import io.cachefs.peer.PeerFetch;
import io.cachefs.peer.PeerResults;
import io.cachefs.peer.PortEvent;
import io.cachefs.source.SourceCounter;
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
        for (CacheCounter c : CacheCounter.values()) {
            counter(registry, ExportedCounters.of(c), mountTag, m -> m.cache().counts().get(c));
        }
        for (ReadCounter c : ReadCounter.values()) {
            counter(registry, ExportedCounters.of(c), mountTag, m -> m.reads().get(c));
        }
        for (SourceCounter c : SourceCounter.values()) {
            counter(registry, ExportedCounters.of(c), mountTag, m -> m.source().get(c));
        }
        gauge(registry, "cachefs.cache.bytes", BYTES, "Memory held by cached blocks", mountTag,
                m -> m.cache().usedBytes());
        gauge(registry, "cachefs.cache.capacity.bytes", BYTES, "Bound on cachefs_cache_bytes",
                mountTag, m -> m.cache().capacityBytes());
        gauge(registry, "cachefs.blocks", null, "Blocks in memory", mountTag, m -> m.cache().blocks());
        gauge(registry, "cachefs.files.cached", null,
                "File versions with at least one block in memory", mountTag, m -> m.cache().filesCached());
        gauge(registry, "cachefs.source.read.rate", "bytes.per.second",
                "Aggregate source load rate last measured over busy streams", mountTag,
                m -> m.loading().measuredBytesPerSecond());
        gauge(registry, "cachefs.load.streams", null, "Load streams running now", mountTag,
                m -> m.loading().streams());
        gauge(registry, "cachefs.load.target.streams", null, "Streams per file the adaptation uses now",
                mountTag, m -> m.loading().targetStreams());
        gauge(registry, "cachefs.load.in.flight", BYTES, "Bytes of blocks being loaded now", mountTag,
                m -> m.loading().bytesInFlight());
        for (PeerResults.Answer a : PeerResults.Answer.values()) {
            counter(registry, ExportedCounters.of(a), mountTag, m -> m.peer().results().answers().get(a));
        }
        for (PeerFetch.Kind k : PeerFetch.Kind.values()) {
            counter(registry, ExportedCounters.of(k), mountTag, m -> m.peer().results().failures().get(k));
        }
        counter(registry, "cachefs.peer.served.bytes", BYTES, "Block bytes sent to peers", mountTag,
                m -> m.peer().servedBytes());
        counter(registry, "cachefs.peer.passed.on.bytes", BYTES,
                "Of the block bytes sent to peers, those sent while the block still arrived from another member",
                mountTag, m -> m.peer().passedOnBytes());
        for (PortEvent e : PortEvent.values()) {
            counter(registry, ExportedCounters.of(e), mountTag, m -> m.peer().portEvents().get(e));
        }
        String membersHelp = "Members of the peer group as this instance sees them (itself counts as live)";
        gauge(registry, "cachefs.peer.members", null, membersHelp, mountTag.and("state", "live"),
                m -> m.peer().members().stream().filter(member -> member.self() || member.live()).count());
        gauge(registry, "cachefs.peer.members", null, membersHelp, mountTag.and("state", "down"),
                m -> m.peer().members().stream().filter(member -> !member.self() && !member.live()).count());
        counter(registry, "cachefs.stale.metadata.answers", null, "Lookups and listings answered as last seen "
                + "because the source did not answer", mountTag, m -> m.health().staleMetadataAnswers());
        counter(registry, "cachefs.source.unanswered", null, "Source stats and listings that timed out or failed "
                + "without an answer", mountTag, m -> m.health().unansweredSourceCalls());
        gauge(registry, "cachefs.source.reachable", null, "1 while the source answers, 0 while it does not",
                mountTag, m -> m.health().sourceReachable() ? 1 : 0);
        gauge(registry, "cachefs.fuse.workers", null, "FUSE workers running now (they grow while requests wait)",
                mountTag, m -> m.health().workers());
        counter(registry, "cachefs.fuse.workers.died", null, "FUSE workers stopped by an unexpected error",
                mountTag, m -> m.health().workersDied());
    }

    private void counter(MeterRegistry registry, ExportedCounters.Name name, Tags mountTag,
            ToDoubleFunction<MountMetrics> value) {
        counter(registry, name.name(), name.unit(), name.help(), mountTag.and(name.tags()), value);
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
