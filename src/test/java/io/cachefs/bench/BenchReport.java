package io.cachefs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Turns the raw measurements of bench/run into {@code latest.md}, {@code latest.json} and
 * {@code latest.png}: medians, ratios to the baseline measured in the same run, and the targets
 * with their verdicts.
 *
 * <p>Usage: {@code BenchReport RAW.tsv OUT_DIR [JMH.json]}. RAW.tsv has one measurement a line,
 * tab-separated:
 * <pre>
 *   run     CASE  READER  MB/s      a timed read (READER: dd, channel, mmap)
 *   sample  NAME  VALUE             one of several repeated numbers (scale-out, mount time)
 *   fact    NAME  VALUE             a single value (machine, sizes, memory, checks)
 *   pair, adapt ...                  the cold reads by source kind ({@link ColdSourcesReport})
 * </pre>
 * Which case is compared with which, and the targets, are defined here, so that bench/run only
 * measures.
 */
public final class BenchReport {
    /** rclone's --bwlimit 200M (the default) is 200 MiB/s; bench/run states the one it used as limit_bytes. */
    static final long DEFAULT_LIMIT_BYTES = 200L << 20;
    static final String LIMIT = "limit";

    static final List<String> READERS = List.of("dd", "channel", "mmap");
    static final Map<String, String> READER_NAMES = Map.of(
            "dd", "dd bs=1M (model.bin)",
            "channel", "FileChannel, 1 MiB direct buffer (model.bin)",
            "mmap", "mmap loader (model.safetensors)");

    /** A way of serving the files; {@code baseline} is a case id or {@link #LIMIT}. */
    record Case(String id, int section, String label, String chartLabel, String baseline) {
    }

    static final List<Case> CASES = List.of(
            new Case("tmpfs", 1, "tmpfs, the work dir itself", "tmpfs", "tmpfs"),
            new Case("bindfs", 2, "bindfs, default", "bindfs", "tmpfs"),
            new Case("bindfs-mt-kc", 2, "bindfs --multithreaded -o kernel_cache, after drop_caches",
                    "bindfs mt+kc", "bindfs"),
            new Case("bindfs-mt-kc-repeat", 2, "bindfs --multithreaded -o kernel_cache, repeat read (no drop)",
                    "bindfs mt+kc repeat", "bindfs"),
            new Case("rclone-full", 3, "rclone mount --vfs-cache-mode full, warm VFS cache", "rclone warm",
                    "tmpfs"),
            new Case("source", 4, "slow source: rclone mount --bwlimit 200M --vfs-cache-mode off", "slow source",
                    LIMIT),
            new Case("cold", 5, "CacheFS cold read (fresh daemon, first read)", "CacheFS cold", LIMIT),
            new Case("hit-passthrough", 5, "CacheFS memory hit, passthrough", "CacheFS hit passthrough", "tmpfs"),
            new Case("hit-read", 5, "CacheFS memory hit, READ requests (--no-passthrough --kernel-cache off)",
                    "CacheFS hit READ", "tmpfs"),
            new Case("kc-keep", 5, "CacheFS repeat read, --kernel-cache keep --no-passthrough (no drop)",
                    "CacheFS kernel-cache keep", "tmpfs"),
            new Case("peer-hit", 5, "CacheFS peer hit (2nd instance, --no-passthrough --kernel-cache off)",
                    "CacheFS peer hit", "hit-read"));

    static final Map<Integer, String> SECTIONS = Map.of(
            1, "1. tmpfs (the physical limit)",
            2, "2. bindfs over the tmpfs dir",
            3, "3. rclone mount of the tmpfs dir, warm VFS cache",
            4, "4. The slow source (an object storage mount)",
            5, "5. CacheFS over the slow source");

    private final Map<String, List<Double>> runs = new LinkedHashMap<>();
    private final Map<String, List<Double>> samples = new LinkedHashMap<>();
    private final Map<String, String> facts = new LinkedHashMap<>();
    private final ColdSourcesReport cold = new ColdSourcesReport(facts);
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: BenchReport RAW.tsv OUT_DIR [JMH.json]");
            System.exit(2);
        }
        var report = new BenchReport();
        report.load(Path.of(args[0]));
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        JsonNode jmh = args.length > 2 && Files.isRegularFile(Path.of(args[2]))
                ? report.json.readTree(Path.of(args[2]).toFile()) : null;
        List<Verdict> verdicts = report.targets();
        String markdown = report.markdown(verdicts, jmh);
        Files.writeString(out.resolve("latest.md"), markdown);
        report.json.writeValue(out.resolve("latest.json").toFile(), report.toJson(verdicts, jmh));
        ThroughputChart.write(report, out.resolve("latest.png"));
        if (!report.cold.isEmpty()) {
            report.cold.chart(out.resolve("cold-sources.png"));
        }
        System.out.print(markdown);
    }

    void load(Path raw) throws IOException {
        for (String line : Files.readAllLines(raw)) {
            String[] f = line.split("\t");
            switch (f[0]) {
                case "run" -> runs.computeIfAbsent(f[1] + "/" + f[2], k -> new ArrayList<>()).add(Double.parseDouble(f[3]));
                case "sample" -> samples.computeIfAbsent(f[1], k -> new ArrayList<>()).add(Double.parseDouble(f[2]));
                case "fact" -> facts.put(f[1], f.length > 2 ? f[2] : "");
                default -> cold.load(f);
            }
        }
    }

    List<Double> runs(String caseId, String reader) {
        return runs.getOrDefault(caseId + "/" + reader, List.of());
    }

    OptionalDouble median(String caseId, String reader) {
        return median(runs(caseId, reader));
    }

    static OptionalDouble median(List<Double> values) {
        if (values.isEmpty()) {
            return OptionalDouble.empty();
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return OptionalDouble.of(n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2);
    }

    OptionalDouble baseline(Case c, String reader) {
        return c.baseline().equals(LIMIT) ? OptionalDouble.of(limitMbps()) : median(c.baseline(), reader);
    }

    String baselineName(Case c) {
        return c.baseline().equals(LIMIT) ? limitName()
                : CASES.stream().filter(b -> b.id().equals(c.baseline())).findFirst().orElseThrow().chartLabel();
    }

    double limitMbps() {
        return fact("limit_bytes", DEFAULT_LIMIT_BYTES) / 1e6;
    }

    String limitName() {
        return String.format(Locale.ROOT, "%.0f MiB/s limit (%.1f MB/s)", fact("limit_bytes", DEFAULT_LIMIT_BYTES) / 1048576.0,
                limitMbps());
    }

    long fact(String name, long otherwise) {
        return parseLong(facts.get(name), otherwise);
    }

    static long parseLong(String v, long otherwise) {
        return v == null || v.isBlank() ? otherwise : Math.round(Double.parseDouble(v.trim()));
    }

    // ---- targets

    /** One target: measured value, the bound it is held to, and whether it is met. */
    record Verdict(String target, String reader, OptionalDouble value, double bound, boolean atMost, String unit) {
        String verdict() {
            if (value.isEmpty()) {
                return "n/a";
            }
            return (atMost ? value.getAsDouble() <= bound : value.getAsDouble() >= bound) ? "PASS" : "MISS";
        }
    }

    private OptionalDouble ratio(OptionalDouble a, OptionalDouble b) {
        return a.isPresent() && b.isPresent() && b.getAsDouble() > 0
                ? OptionalDouble.of(a.getAsDouble() / b.getAsDouble()) : OptionalDouble.empty();
    }

    private OptionalDouble ratio(String caseId, String baseline, String reader) {
        return ratio(median(caseId, reader), median(baseline, reader));
    }

    List<Verdict> targets() {
        List<Verdict> v = new ArrayList<>();
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("memory hit, passthrough ≥ 0.8x tmpfs", r, ratio("hit-passthrough", "tmpfs", r), 0.8, false, "x"));
        }
        v.add(new Verdict("mmap loader, memory hit (passthrough) ≥ 0.8x the loader on tmpfs", "mmap",
                ratio("hit-passthrough", "tmpfs", "mmap"), 0.8, false, "x"));
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("memory hit by READ ≥ 2x bindfs default", r, ratio("hit-read", "bindfs", r), 2, false, "x"));
        }
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("memory hit by READ ≥ 2x rclone warm VFS cache", r, ratio("hit-read", "rclone-full", r), 2, false, "x"));
        }
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("memory hit by READ ≥ 0.3x tmpfs (aim)", r, ratio("hit-read", "tmpfs", r), 0.3, false, "x"));
        }
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("repeat read, --kernel-cache keep ≥ 0.8x tmpfs", r, ratio("kc-keep", "tmpfs", r), 0.8, false, "x"));
        }
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("peer hit ≥ 0.7x local READ memory hit", r, ratio("peer-hit", "hit-read", r), 0.7, false, "x"));
        }
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("cold read ≥ 0.9x the " + limitName(), r,
                    ratio(median("cold", r), OptionalDouble.of(limitMbps())), 0.9, false, "x"));
        }
        for (String r : List.of("dd", "channel")) {
            v.add(new Verdict("cold read ≥ 0.9x the measured slow source", r, ratio("cold", "source", r), 0.9, false, "x"));
        }
        v.add(new Verdict("scale-out (3 instances, one cold file): source bytes ≤ 1.05x file size", "dd",
                median(samples.getOrDefault("scaleout_source_ratio", List.of())), 1.05, true, "x"));
        long capacity = fact("rss_capacity_bytes", -1);
        long used = fact("rss_total_bytes", -1);
        v.add(new Verdict("daemon RSS + shmem ≤ capacity + 256 MiB", "-",
                capacity > 0 && used > 0 ? OptionalDouble.of(used / 1048576.0) : OptionalDouble.empty(),
                capacity / 1048576.0 + 256, true, "MiB"));
        v.addAll(cold.targets());
        return v;
    }

    // ---- markdown

    String markdown(List<Verdict> verdicts, JsonNode jmh) {
        var md = new StringBuilder();
        md.append("# CacheFS benchmark (bench/run)\n\n");
        md.append("- date: ").append(facts.getOrDefault("date", "?")).append('\n');
        md.append("- machine: ").append(facts.getOrDefault("cores", "?")).append(" cores (")
                .append(facts.getOrDefault("cpu", "?")).append("), ").append(facts.getOrDefault("memory", "?"))
                .append(" memory, kernel ").append(facts.getOrDefault("kernel", "?")).append('\n');
        md.append("- JDK: ").append(facts.getOrDefault("jdk", "?")).append("; ").append(facts.getOrDefault("tools", ""))
                .append('\n');
        md.append("- files (in a tmpfs work dir): model.bin ").append(mib(fact("bin_bytes", 0)))
                .append(" of incompressible bytes; model.safetensors ").append(mib(fact("safetensors_bytes", 0)))
                .append(" (").append(facts.getOrDefault("tensors", "?")).append(" F16 tensors)\n");
        md.append("- method: caches dropped (`sync; echo 3 > /proc/sys/vm/drop_caches`) before every timed read unless"
                + " the case says otherwise; 1 warm-up round, then ").append(facts.getOrDefault("rounds", "?"))
                .append(" timed rounds, readers and cases interleaved within a phase; medians; MB/s = 10^6 bytes/s."
                        + " dd and the FileChannel reader read model.bin, the mmap loader model.safetensors"
                        + " (its rate is the file size over the time from open to unmap). Every ratio is to a"
                        + " baseline measured in this run.\n");
        md.append("- CacheFS daemons: `-Xmx256m`, `--capacity ").append(facts.getOrDefault("capacity", "?"))
                .append("`, default block size and readahead; source = the slow source of case 4.\n\n");

        for (int section = 1; section <= 5; section++) {
            md.append("## ").append(SECTIONS.get(section)).append("\n\n");
            md.append("| case | reader | median MB/s | runs | min–max | ratio | baseline |\n");
            md.append("|---|---|---:|---:|---:|---:|---|\n");
            for (Case c : CASES) {
                if (c.section() != section) {
                    continue;
                }
                for (String r : READERS) {
                    List<Double> values = runs(c.id(), r);
                    if (values.isEmpty()) {
                        continue;
                    }
                    OptionalDouble ratio = ratio(median(values), baseline(c, r));
                    md.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %d | %.0f–%.0f | %s | %s |%n", c.label(),
                            r, median(values).getAsDouble(), values.size(),
                            values.stream().mapToDouble(Double::doubleValue).min().orElse(0),
                            values.stream().mapToDouble(Double::doubleValue).max().orElse(0),
                            ratio.isPresent() ? String.format(Locale.ROOT, "%.2fx", ratio.getAsDouble()) : "–",
                            baselineName(c)));
                }
            }
            md.append('\n');
            if (section == 5) {
                md.append("Cold read vs the measured slow source: ");
                for (String r : READERS) {
                    OptionalDouble q = ratio("cold", "source", r);
                    md.append(r).append(' ').append(q.isPresent() ? String.format(Locale.ROOT, "%.2fx", q.getAsDouble()) : "–")
                            .append(r.equals("mmap") ? ".\n\n" : ", ");
                }
                md.append(facts.getOrDefault("checks", "")).append("\n\n");
            }
        }

        md.append("## 6. Scale-out: 3 instances (127.0.0.1-3, one group) read the same cold model.bin at once\n\n");
        md.append("| measure | median | runs | ratio | baseline |\n|---|---:|---:|---:|---|\n");
        List<Double> wall = samples.getOrDefault("scaleout_wall_s", List.of());
        List<Double> srcRatio = samples.getOrDefault("scaleout_source_ratio", List.of());
        long bin = fact("bin_bytes", 0);
        if (!wall.isEmpty()) {
            double w = median(wall).getAsDouble();
            md.append(String.format(Locale.ROOT, "| wall time (all three dd done) | %.1f s | %d | %.2fx | one file at the limit (%.1f s) |%n",
                    w, wall.size(), w / (bin / 1e6 / limitMbps()), bin / 1e6 / limitMbps()));
            OptionalDouble single = median("cold", "dd");
            if (single.isPresent()) {
                md.append(String.format(Locale.ROOT, "| wall time | %.1f s | %d | %.2fx | one instance's cold dd (%.1f s) |%n",
                        w, wall.size(), w / (bin / 1e6 / single.getAsDouble()), bin / 1e6 / single.getAsDouble()));
            }
        }
        if (!srcRatio.isEmpty()) {
            md.append(String.format(Locale.ROOT, "| source bytes, sum over the 3 instances | %s | %d | %.3fx | file size (%s) |%n",
                    mib(Math.round(median(srcRatio).getAsDouble() * bin)), srcRatio.size(), median(srcRatio).getAsDouble(), mib(bin)));
        }
        md.append('\n');

        md.append("## 7. Mount time and memory\n\n");
        List<Double> mount = samples.getOrDefault("mount_s", List.of());
        md.append("| measure | median | runs | ratio | baseline |\n|---|---:|---:|---:|---|\n");
        if (!mount.isEmpty()) {
            OptionalDouble jvm = median(samples.getOrDefault("jvm_start_s", List.of()));
            md.append(String.format(Locale.ROOT, "| mount time: process start to `stat MNT/model.bin` succeeding | %.2f s | %d | %s | %s |%n",
                    median(mount).getAsDouble(), mount.size(),
                    jvm.isPresent() ? String.format(Locale.ROOT, "%.1fx", median(mount).getAsDouble() / jvm.getAsDouble()) : "–",
                    jvm.isPresent() ? String.format(Locale.ROOT, "a JVM printing its version (%.2f s)", jvm.getAsDouble()) : ""));
        }
        long capacity = fact("rss_capacity_bytes", -1);
        if (capacity > 0) {
            long total = fact("rss_total_bytes", 0);
            md.append(String.format(Locale.ROOT, "| daemon memory with a full cache: RssAnon + RssFile + max(RssShmem, its memfds' allocated bytes) | %s | 1 | %.3fx | --capacity (%s) |%n",
                    mib(total), (double) total / capacity, mib(capacity)));
            md.append(String.format(Locale.ROOT, "| — RssAnon / RssFile / RssShmem / memfds allocated | %s / %s / %s / %s | | | |%n",
                    mib(fact("rss_anon_bytes", 0)), mib(fact("rss_file_bytes", 0)), mib(fact("rss_shmem_bytes", 0)),
                    mib(fact("memfd_bytes", 0))));
            md.append(String.format(Locale.ROOT, "| — Pss (smaps_rollup) / cachefs_cache_bytes | %s / %s | | | |%n",
                    mib(fact("pss_bytes", 0)), mib(fact("cache_bytes", 0))));
        }
        md.append('\n').append(facts.getOrDefault("memory_note", "")).append("\n\n");

        md.append("## 8. JMH (bench/jmh)\n\n");
        if (jmh == null || !jmh.isArray() || jmh.isEmpty()) {
            md.append(facts.getOrDefault("jmh_note", "not run (bench/jmh is missing)")).append("\n\n");
        } else {
            md.append("| benchmark | threads | params | score | error | unit | ratio to `hit` |\n|---|---:|---|---:|---:|---|---:|\n");
            double hit = Double.NaN;
            for (JsonNode b : jmh) {
                if (b.path("benchmark").asText().endsWith(".hit")) {
                    hit = b.path("primaryMetric").path("score").asDouble();
                }
            }
            for (JsonNode b : jmh) {
                String name = b.path("benchmark").asText();
                double score = b.path("primaryMetric").path("score").asDouble();
                md.append(String.format(Locale.ROOT, "| %s | %d | %s | %.4g | %s | %s | %s |%n",
                        name.substring(name.lastIndexOf('.') + 1), b.path("threads").asInt(),
                        b.has("params") ? b.get("params").toString().replace("|", "/") : "",
                        score, b.path("primaryMetric").path("scoreError").isNumber()
                                ? String.format(Locale.ROOT, "%.2g", b.path("primaryMetric").path("scoreError").asDouble()) : "–",
                        b.path("primaryMetric").path("scoreUnit").asText(),
                        Double.isNaN(hit) ? "–" : String.format(Locale.ROOT, "%.2fx", score / hit)));
            }
            md.append("\n").append(facts.getOrDefault("jmh_note", "")).append("\n\n");
        }

        if (!cold.isEmpty()) {
            cold.markdown(md);
        }
        if (facts.containsKey("scaleout_note")) {
            md.append("## Scale-out like a swarm\n\n").append(facts.get("scaleout_note")).append("\n\n");
        }

        md.append("## Targets\n\n| target | reader | measured | needed | verdict |\n|---|---|---:|---:|---|\n");
        for (Verdict v : verdicts) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s %s | **%s** |%n", v.target(), v.reader(),
                    v.value().isPresent() ? format(v.value().getAsDouble(), v.unit()) : "–",
                    v.atMost() ? "≤" : "≥", format(v.bound(), v.unit()), v.verdict()));
        }
        md.append('\n');
        return md.toString();
    }

    private static String format(double value, String unit) {
        return unit.equals("x") ? String.format(Locale.ROOT, "%.3fx", value) : String.format(Locale.ROOT, "%.0f %s", value, unit);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
    }

    // ---- json

    ObjectNode toJson(List<Verdict> verdicts, JsonNode jmh) {
        ObjectNode root = json.createObjectNode();
        ObjectNode machine = root.putObject("facts");
        facts.forEach(machine::put);
        root.put("source_limit_mbps", limitMbps());
        ArrayNode cases = root.putArray("cases");
        for (Case c : CASES) {
            for (String r : READERS) {
                List<Double> values = runs(c.id(), r);
                if (values.isEmpty()) {
                    continue;
                }
                ObjectNode o = cases.addObject();
                o.put("id", c.id()).put("section", SECTIONS.get(c.section())).put("case", c.label()).put("reader", r)
                        .put("median_mbps", median(values).getAsDouble());
                ArrayNode a = o.putArray("runs_mbps");
                values.forEach(a::add);
                o.put("baseline", c.baseline());
                OptionalDouble b = baseline(c, r);
                if (b.isPresent()) {
                    o.put("baseline_mbps", b.getAsDouble());
                    o.put("ratio", median(values).getAsDouble() / b.getAsDouble());
                }
            }
        }
        ObjectNode s = root.putObject("samples");
        samples.forEach((k, values) -> {
            ObjectNode o = s.putObject(k);
            o.put("median", median(values).getAsDouble());
            ArrayNode a = o.putArray("values");
            values.forEach(a::add);
        });
        ArrayNode t = root.putArray("targets");
        for (Verdict v : verdicts) {
            ObjectNode o = t.addObject().put("target", v.target()).put("reader", v.reader());
            if (v.value().isPresent()) {
                o.put("measured", v.value().getAsDouble());
            }
            o.put("bound", v.bound()).put("at_most", v.atMost()).put("unit", v.unit()).put("verdict", v.verdict());
        }
        if (jmh != null) {
            root.set("jmh", jmh);
        }
        cold.toJson(root);
        return root;
    }

}
