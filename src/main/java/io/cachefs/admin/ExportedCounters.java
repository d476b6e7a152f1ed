package io.cachefs.admin;

import io.cachefs.cache.CacheCounter;
import io.cachefs.fs.ReadCounter;
import io.cachefs.peer.PeerFetch;
import io.cachefs.peer.PeerResults;
import io.cachefs.peer.PortEvent;
import io.cachefs.source.SourceCounter;
import io.micrometer.core.instrument.Tags;
import java.util.Locale;

/**
 * The exported name of every counter of every package, in one place: the switches are
 * exhaustive, so a counter added to one of the enums does not compile until it is named here,
 * and {@link MountMeters} registers it by iterating the enum. The names are a contract
 * (dashboards, alerts, {@code deploy/}); {@code MetricsEndpointTest} pins each.
 *
 * <p>The peer results and port events are the values of one label of one metric each, derived
 * from the constant's name ({@code NOT_THERE} is {@code result="not_there"}): a new
 * {@link PeerFetch.Kind} of failure is a new result on {@code /metrics} with no edit here.
 */
final class ExportedCounters {
    private static final String BYTES = "bytes";
    private static final String READ_HELP = "Bytes returned to readers, by the tier they came from";
    private static final String PEER_REQUESTS = "cachefs.peer.requests";
    private static final String PEER_REQUESTS_HELP = "Block requests made to peers, by result";

    /**
     * One exported counter: Micrometer's dotted name, which Prometheus writes with underscores,
     * the unit appended and {@code _total}.
     *
     * @param unit the base unit, or null
     * @param tags tags besides {@code mount}
     */
    record Name(String name, String unit, String help, Tags tags) {
        Name(String name, String unit, String help) {
            this(name, unit, help, Tags.empty());
        }
    }

    private ExportedCounters() {
    }

    static Name of(CacheCounter counter) {
        return switch (counter) {
            case HITS -> new Name("cachefs.cache.hits", null, "Block lookups found in memory");
            case MISSES -> new Name("cachefs.cache.misses", null, "Block lookups that loaded or waited for a load");
            case EVICTIONS -> new Name("cachefs.evictions", null, "Blocks evicted to make room");
            case LOADED_BYTES -> new Name("cachefs.cache.loaded.bytes", BYTES, "Bytes loaded into the cache");
            case UNCACHED_BYTES -> new Name("cachefs.uncached.read.bytes", BYTES,
                    "Bytes loaded outside the capacity because pinned blocks left no room");
            case FAILED_LOADS -> new Name("cachefs.cache.failed.loads", null,
                    "Block loads that failed (the block was not cached)");
            case ABANDONED_LOADS -> new Name("cachefs.load.abandoned", null,
                    "Block loads given up on because the source did not answer within the source timeout");
        };
    }

    static Name of(ReadCounter counter) {
        return switch (counter) {
            case MEMORY_BYTES -> new Name("cachefs.read.bytes", BYTES, READ_HELP, Tags.of("tier", "memory"));
            case PEER_BYTES -> new Name("cachefs.read.bytes", BYTES, READ_HELP, Tags.of("tier", "peer"));
            case SOURCE_BYTES -> new Name("cachefs.read.bytes", BYTES, READ_HELP, Tags.of("tier", "source"));
            case PASSTHROUGH_OPENS -> new Name("cachefs.passthrough.opens", null,
                    "Opens served by FUSE passthrough from a fully cached file");
            case OFFLINE_OPENS -> new Name("cachefs.offline.opens", null,
                    "Opens of fully cached files served while the source did not answer");
            case FAILED_READS -> new Name("cachefs.failed.reads", null,
                    "Reads answered EIO: the source failed, timed out or changed under an open file");
        };
    }

    static Name of(SourceCounter counter) {
        return switch (counter) {
            case READ_BYTES -> new Name("cachefs.source.read.bytes", BYTES, "Bytes read from the source, readahead included");
            case READS -> new Name("cachefs.source.reads", null, "Reads from the source that completed");
            case OPENS -> new Name("cachefs.source.opens", null,
                    "Files opened on the source: one per load stream, a request each on an object-storage mount");
        };
    }

    static Name of(PeerResults.Answer answer) {
        return new Name(PEER_REQUESTS, null, PEER_REQUESTS_HELP, Tags.of("result", label(answer)));
    }

    static Name of(PeerFetch.Kind failure) {
        return new Name(PEER_REQUESTS, null, PEER_REQUESTS_HELP, Tags.of("result", label(failure)));
    }

    static Name of(PortEvent event) {
        return new Name("cachefs.peer.port.events", null, "Misuse the peer port turned away, by event",
                Tags.of("event", label(event)));
    }

    /** A constant as a label value or {@code /status} key: {@code NOT_THERE} is {@code not_there}. */
    static String label(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }
}
