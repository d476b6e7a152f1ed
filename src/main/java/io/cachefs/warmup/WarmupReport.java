package io.cachefs.warmup;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/** The end of a warm-up: the exit code, a summary for people and a document for scripts. */
public record WarmupReport(List<Warmup.FileResult> results, double seconds) {
    public static final int ALL_CACHED = 0;
    public static final int SOME_FAILED = 1;

    public int exitCode() {
        return failed().isEmpty() ? ALL_CACHED : SOME_FAILED;
    }

    public List<Warmup.FileResult> failed() {
        return results.stream().filter(r -> r.outcome() == Warmup.Outcome.FAILED
                || r.outcome() == Warmup.Outcome.NOT_CACHED).toList();
    }

    public Tiers tiers() {
        return results.stream().map(Warmup.FileResult::tiers).reduce(Tiers.NONE, Tiers::plus);
    }

    /** Bytes read (not those cached before) over the whole run. */
    public long readBytes() {
        return results.stream().filter(r -> r.outcome() == Warmup.Outcome.LOADED || r.outcome() == Warmup.Outcome.FAILED)
                .mapToLong(r -> r.tiers().total()).sum();
    }

    public long totalBytes() {
        return results.stream().mapToLong(r -> r.file().size()).sum();
    }

    /** The closing line, e.g. {@code warmed 3 files, 1.5 GiB in 15.2 s (103 MB/s): memory 0 B, peer 0 B, source 1.5 GiB}. */
    public String summary() {
        long before = results.stream().filter(r -> r.outcome() == Warmup.Outcome.CACHED_BEFORE).count();
        if (before == results.size()) {
            return String.format(Locale.ROOT, "all %d file%s already cached (%s); nothing to read", results.size(),
                    results.size() == 1 ? "" : "s", ProgressText.bytes(totalBytes()));
        }
        int cached = results.size() - failed().size();
        return String.format(Locale.ROOT, "%d of %d file%s cached, %s; read %s in %.1f s (%s): %s%s", cached,
                results.size(), results.size() == 1 ? "" : "s", ProgressText.bytes(totalBytes()),
                ProgressText.bytes(readBytes()), seconds, ProgressText.rate(seconds > 0 ? readBytes() / seconds : 0),
                ProgressText.tiers(tiers()), failed().isEmpty() ? "" : "; " + failed().size() + " failed");
    }

    /** {@code --check}'s closing line. */
    public String checkSummary() {
        long cached = results.size() - failed().size();
        long cachedBytes = results.stream().filter(r -> r.outcome() == Warmup.Outcome.CACHED_BEFORE)
                .mapToLong(r -> r.file().size()).sum();
        return String.format(Locale.ROOT, "%d of %d file%s cached (%s of %s)", cached, results.size(),
                results.size() == 1 ? "" : "s", ProgressText.bytes(cachedBytes), ProgressText.bytes(totalBytes()));
    }

    /** One JSON document: totals, tiers and every file's outcome. */
    public String json() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("exitCode", exitCode());
        root.put("files", results.size());
        root.put("failedFiles", failed().size());
        root.put("totalBytes", totalBytes());
        root.put("readBytes", readBytes());
        root.put("seconds", seconds);
        root.put("bytesPerSecond", seconds > 0 ? (long) (readBytes() / seconds) : 0);
        root.set("tiers", tiersJson(mapper, tiers()));
        ArrayNode list = root.putArray("results");
        for (Warmup.FileResult result : results) {
            ObjectNode file = list.addObject();
            file.put("path", result.file().path().toString());
            file.put("mount", result.file().mount().toString());
            file.put("sizeBytes", result.file().size());
            file.put("outcome", switch (result.outcome()) {
                case CACHED_BEFORE -> "cached_before";
                case LOADED -> "loaded";
                case FAILED -> "failed";
                case NOT_CACHED -> "not_cached";
            });
            file.put("seconds", result.seconds());
            file.set("tiers", tiersJson(mapper, result.tiers()));
            if (result.error() != null) {
                file.put("error", result.error());
            }
        }
        return root.toString();
    }

    private static ObjectNode tiersJson(ObjectMapper mapper, Tiers tiers) {
        ObjectNode node = mapper.createObjectNode();
        node.put("memory", tiers.memory());
        node.put("peer", tiers.peer());
        node.put("source", tiers.source());
        return node;
    }
}
