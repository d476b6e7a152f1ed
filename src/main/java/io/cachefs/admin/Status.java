package io.cachefs.admin;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.List;

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
            SourceMetrics sourceLoading,
            List<PeerMetrics.Member> peers,
            long peerServedBytes) {

        static Mount of(MonitoredMount mount) {
            MountMetrics m = mount.metrics();
            return new Mount(
                    mount.mountPoint(),
                    mount.source(),
                    m.capacityBytes(),
                    m.cacheBytes(),
                    m.hitRatio(),
                    m.filesCached(),
                    m.blocks(),
                    new ReadBytes(m.readBytesMemory(), m.readBytesPeer(), m.readBytesSource()),
                    m.sourceReadBytes(),
                    m.passthroughOpens(),
                    m.evictions(),
                    m.uncachedReadBytes(),
                    m.loading(),
                    m.peer().members(),
                    m.peer().servedBytes());
        }
    }

    /** Bytes returned to readers, by the tier they came from. */
    record ReadBytes(long memory, long peer, long source) {}
}
