package io.cachefs.admin;

import io.cachefs.cache.CacheCounter;
import io.cachefs.fs.ReadCounter;
import io.cachefs.peer.PortEvent;
import io.cachefs.source.SourceCounter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code GET /status} document: what a person or {@code cachefs stats} wants to see at a
 * glance. Jackson writes the records' components in declaration order.
 *
 * @param process the daemon process
 * @param mounts one entry per mount, in the order the daemon gave them
 */
record Status(DaemonProcess process, List<Mount> mounts) {

    /** Reads every mount once; throws whatever a mount's {@code metrics()} throws. */
    static Status of(List<? extends MonitoredMount> mounts) {
        return new Status(DaemonProcess.current(), mounts.stream().map(Mount::of).toList());
    }

    /**
     * @param heapMaxBytes -1 when the JVM has no heap limit
     */
    record DaemonProcess(long pid, long uptimeSeconds, long heapUsedBytes, long heapMaxBytes) {

        static DaemonProcess current() {
            MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            return new DaemonProcess(
                    ProcessHandle.current().pid(),
                    ManagementFactory.getRuntimeMXBean().getUptime() / 1000,
                    heap.getUsed(),
                    heap.getMax());
        }
    }

    /**
     * @param sourceLoading how the source is read now, and what the adaptation settled on
     * @param peers the peer group's members as this instance sees them (empty without a group), each with the
     *     block bytes fetched from it and sent to it and its redirects, plus members outside the view it traded with
     * @param peerServedBytes block bytes sent to peers
     * @param peerPortEvents misuse the peer port turned away, by event ({@code connection_rejected}, ...;
     *     empty without a group)
     * @param wholeFiles files with every block in memory
     * @param partFiles files with some blocks in memory
     * @param biggestFiles the largest files held whole, with their share of {@code usedBytes}
     * @param preload how the preload of {@code --preload} globs is going
     */
    record Mount(
            String mountPoint,
            String source,
            long capacityBytes,
            long usedBytes,
            double hitRatio,
            int filesCached,
            long blocks,
            ReadBytes readBytes,
            long sourceReadBytes,
            long passthroughOpens,
            long evictions,
            long uncachedReadBytes,
            SourceLoading sourceLoading,
            List<PeerMetrics.Member> peers,
            long peerServedBytes,
            Map<String, Long> peerPortEvents,
            Faults faults,
            int wholeFiles,
            int partFiles,
            List<BiggestFile> biggestFiles,
            PreloadStatus preload) {

        static Mount of(MonitoredMount mount) {
            MountMetrics m = mount.metrics();
            MountContents contents = mount.contents();
            return new Mount(
                    mount.mountPoint(),
                    mount.source(),
                    m.cache().capacityBytes(),
                    m.cache().usedBytes(),
                    m.hitRatio(),
                    m.cache().filesCached(),
                    m.cache().blocks(),
                    new ReadBytes(m.readBytesMemory(), m.readBytesPeer(), m.readBytesSource()),
                    m.sourceReadBytes(),
                    m.passthroughOpens(),
                    m.cache().evictions(),
                    m.cache().uncachedBytes(),
                    SourceLoading.of(m),
                    m.peer().members(),
                    m.peer().servedBytes(),
                    portEvents(m.peer()),
                    Faults.of(m),
                    contents.wholeFiles(),
                    contents.partFiles(),
                    contents.biggest().stream().map(file -> BiggestFile.of(file, m.cache().usedBytes())).toList(),
                    mount.preload());
        }
    }

    /** The port events by their exported label, in the enum's order; none without a group. */
    private static Map<String, Long> portEvents(PeerMetrics peer) {
        Map<String, Long> events = new LinkedHashMap<>();
        if (!peer.members().isEmpty()) { // a group has at least this member
            for (PortEvent event : PortEvent.values()) {
                events.put(ExportedCounters.label(event), peer.portEvents().get(event));
            }
        }
        return events;
    }

    /**
     * One of the largest files held whole.
     *
     * @param share of the memory the mount's cache holds now, 0..1
     */
    record BiggestFile(String path, long sizeBytes, long memoryBytes, double share) {
        static BiggestFile of(MountContents.CachedFile file, long usedBytes) {
            return new BiggestFile(file.path(), file.sizeBytes(), file.memoryBytes(),
                    usedBytes == 0 ? 0 : Math.min(1, (double) file.memoryBytes() / usedBytes));
        }
    }

    /** Bytes returned to readers, by the tier they came from. */
    record ReadBytes(long memory, long peer, long source) {}

    /**
     * How one mount reads its source now, and what its adaptation learned.
     *
     * @param opens files opened on the source since start: one per load stream, where an
     *     object-storage mount charges a request each
     * @param bytesPerSecond the aggregate load rate last measured over busy streams, 0 before the first
     * @param streams load streams running now
     * @param bytesInFlight bytes of blocks being loaded now
     * @param targetStreams streams per file the adaptation uses now
     * @param settled whether the adaptation has settled on {@code targetStreams}
     * @param abandonedLoads block loads given up on because the source did not answer within the
     *     source timeout
     */
    record SourceLoading(long opens, long bytesPerSecond, int streams, long bytesInFlight, int targetStreams,
                         boolean settled, long abandonedLoads) {
        static SourceLoading of(MountMetrics m) {
            var loading = m.loading();
            return new SourceLoading(m.source().get(SourceCounter.OPENS), loading.measuredBytesPerSecond(),
                    loading.streams(), loading.bytesInFlight(), loading.targetStreams(), loading.settled(),
                    m.cache().counts().get(CacheCounter.ABANDONED_LOADS));
        }
    }

    /**
     * How a mount is riding out faults: what failed or was served from memory because the source
     * did not answer, and the FUSE workers (a worker that died is a bug, and logged).
     *
     * @param failedReads reads answered EIO: the source failed, timed out or changed under an open file
     * @param offlineOpens opens of fully cached files served while the source did not answer
     * @param failedLoads block loads that failed
     */
    record Faults(long failedReads, long offlineOpens, long staleMetadataAnswers, long unansweredSourceCalls,
                  boolean sourceReachable, int workers, int workersPeak, long workersDied, long failedLoads) {
        static Faults of(MountMetrics m) {
            var health = m.health();
            return new Faults(m.reads().get(ReadCounter.FAILED_READS), m.reads().get(ReadCounter.OFFLINE_OPENS),
                    health.staleMetadataAnswers(), health.unansweredSourceCalls(), health.sourceReachable(),
                    health.workers(), health.workersPeak(), health.workersDied(), m.cache().failedLoads());
        }
    }
}
