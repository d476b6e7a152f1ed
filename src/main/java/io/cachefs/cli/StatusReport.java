package io.cachefs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cachefs.config.ByteSize;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The human summary {@code cachefs status} prints, written from the {@code /status} document. */
final class StatusReport {
    private static final String INDENT = "  ";
    private static final String LABEL = "%-10s ";

    private final StringBuilder out = new StringBuilder();

    private StatusReport() {
    }

    static String format(String address, JsonNode status) {
        var report = new StatusReport();
        JsonNode process = status.path("process");
        report.out.append(String.format(Locale.ROOT, "cachefs on %s: pid %d, up %s, heap %s of %s%n", address,
                process.path("pid").asLong(), duration(process.path("uptimeSeconds").asLong()),
                ByteSize.format(Math.max(0, process.path("heapUsedBytes").asLong())),
                process.path("heapMaxBytes").asLong() < 0 ? "no limit"
                        : ByteSize.format(process.path("heapMaxBytes").asLong())));
        for (JsonNode mount : status.path("mounts")) {
            report.mount(mount);
        }
        return report.out.toString();
    }

    private void mount(JsonNode m) {
        out.append(String.format("%n%s  (source %s)%n", m.path("mountPoint").asText(), m.path("source").asText()));
        long capacity = m.path("capacityBytes").asLong();
        long used = m.path("usedBytes").asLong();
        line("memory", String.format(Locale.ROOT, "%s of %s (%s); %d files whole, %d in part; %,d blocks",
                ByteSize.format(used), ByteSize.format(capacity), percent(used, capacity),
                m.path("wholeFiles").asInt(), m.path("partFiles").asInt(), m.path("blocks").asLong()));
        JsonNode reads = m.path("readBytes");
        long memory = reads.path("memory").asLong();
        long peer = reads.path("peer").asLong();
        long source = reads.path("source").asLong();
        long total = memory + peer + source;
        line("reads", total == 0 ? "none yet" : String.format(Locale.ROOT,
                "%s: memory %s (%s), peer %s (%s), source %s (%s); block hit ratio %s", ByteSize.format(total),
                ByteSize.format(memory), percent(memory, total), ByteSize.format(peer), percent(peer, total),
                ByteSize.format(source), percent(source, total), percent(m.path("hitRatio").asDouble())));
        if (m.path("passthroughOpens").asLong() > 0) {
            line("", String.format(Locale.ROOT, "%s served by passthrough (their reads are not counted)",
                    count(m.path("passthroughOpens").asLong(), "open")));
        }
        List<String> biggest = new ArrayList<>();
        for (JsonNode file : m.path("biggestFiles")) {
            biggest.add(String.format(Locale.ROOT, "%-40s %10s %6s", file.path("path").asText(),
                    ByteSize.format(file.path("sizeBytes").asLong()), percent(file.path("share").asDouble())));
        }
        for (int i = 0; i < biggest.size(); i++) {
            line(i == 0 ? "biggest" : "", biggest.get(i));
        }
        line("evictions", String.format(Locale.ROOT, "%,d blocks%s", m.path("evictions").asLong(),
                m.path("uncachedReadBytes").asLong() == 0 ? "" : "; " + ByteSize.format(m.path("uncachedReadBytes")
                        .asLong()) + " read past a capacity full of pinned files (raise --capacity)"));
        JsonNode loading = m.path("sourceLoading");
        long rate = loading.path("bytesPerSecond").asLong();
        line("source", String.format(Locale.ROOT, "%s read in %s; %s; %s per file (%s)%s%s",
                ByteSize.format(m.path("sourceReadBytes").asLong()), count(loading.path("opens").asLong(), "open"),
                rate == 0 ? "no rate measured yet" : String.format(Locale.ROOT, "last measured %,.0f MB/s", rate / 1e6),
                count(loading.path("targetStreams").asInt(), "stream"),
                loading.path("settled").asBoolean() ? "settled" : "still learning",
                loading.path("bytesInFlight").asLong() == 0 ? "" : String.format(Locale.ROOT, "; loading now: %s in flight",
                        ByteSize.format(loading.path("bytesInFlight").asLong())),
                loading.path("abandonedLoads").asLong() == 0 ? ""
                        : String.format(Locale.ROOT, "; %,d loads abandoned (source timeout)",
                        loading.path("abandonedLoads").asLong())));
        JsonNode peers = m.path("peers");
        if (peers.isEmpty()) {
            line("peers", "none (no --listen)");
        } else {
            int live = 0;
            for (JsonNode member : peers) {
                live += member.path("self").asBoolean() || member.path("live").asBoolean() ? 1 : 0;
            }
            line("peers", String.format(Locale.ROOT, "%d of %d up; %s sent to peers", live, peers.size(),
                    ByteSize.format(m.path("peerServedBytes").asLong())));
            for (JsonNode member : peers) {
                line("", String.format(Locale.ROOT, "%-28s %s", member.path("address").asText(), member.path("self").asBoolean()
                        ? "this instance" : member.path("live").asBoolean() ? "live"
                        : "down (" + member.path("failures").asLong() + " failures in a row)"));
            }
        }
        JsonNode preload = m.path("preload");
        String state = preload.path("state").asText("none");
        if (!state.equals("none")) {
            line("preload", String.format(Locale.ROOT, "%s: %s of %s (%s), %d of %d files%s; memory %s, peer %s, source %s",
                    state, ByteSize.format(preload.path("doneBytes").asLong()),
                    ByteSize.format(preload.path("totalBytes").asLong()),
                    percent(preload.path("doneBytes").asLong(), preload.path("totalBytes").asLong()),
                    preload.path("filesDone").asInt(), preload.path("files").asInt(),
                    preload.path("failedFiles").asInt() == 0 ? "" : ", " + preload.path("failedFiles").asInt() + " failed",
                    ByteSize.format(preload.path("memoryBytes").asLong()), ByteSize.format(preload.path("peerBytes").asLong()),
                    ByteSize.format(preload.path("sourceBytes").asLong())));
        }
    }

    private void line(String label, String text) {
        out.append(INDENT).append(String.format(LABEL, label)).append(text).append('\n');
    }

    static String count(long n, String noun) {
        return String.format(Locale.ROOT, "%,d %s%s", n, noun, n == 1 ? "" : "s");
    }

    static String percent(long part, long whole) {
        return whole == 0 ? "0%" : percent((double) part / whole);
    }

    static String percent(double ratio) {
        double p = ratio * 100;
        return p == 0 || p >= 10 || p == 100 ? String.format(Locale.ROOT, "%.0f%%", p) : String.format(Locale.ROOT, "%.1f%%", p);
    }

    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + " s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%dm %02ds", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%dh %02dm", seconds / 3600, (seconds % 3600) / 60);
    }
}
