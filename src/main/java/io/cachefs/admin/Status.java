package io.cachefs.admin;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
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
     * @param peerPortEvents misuse the peer port turned away, by event
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
            SourceMetrics sourceLoading,
            List<PeerMetrics.Member> peers,
            long peerServedBytes,
            Map<String, Long> peerPortEvents,
            FaultMetrics faults,
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
                    m.peer().servedBytes(),
                    m.peer().portEvents(),
                    m.faults(),
                    contents.wholeFiles(),
                    contents.partFiles(),
                    contents.biggest().stream().map(file -> BiggestFile.of(file, m.cacheBytes())).toList(),
                    mount.preload());
        }
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
}
