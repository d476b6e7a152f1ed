package io.cachefs.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.UnaryOperator;

/**
 * The "cold read by source kind" section of bench/run (bench/cold-sources measures it): each
 * source read straight with dd and through a fresh CacheFS daemon by four readers, the two read
 * alternately, so that every CacheFS read has the straight read just before it as its pair.
 *
 * <p>Raw lines (tab-separated, in the same TSV as the rest of bench/run):
 * <pre>
 *   pair   SOURCE  READER  STRAIGHT_MBPS  CACHEFS_MBPS   one straight dd, then one CacheFS read
 *   adapt  SOURCE  READER  TEXT                          what the daemon's adaptation chose
 *   fact   cold_SOURCE_label  TEXT                       how the source was built
 *   fact   cold_peak_rss_bytes / cold_capacity_bytes     the largest daemon peak RSS, and its capacity
 * </pre>
 * For the local folder with {@code --source-throttle}, STRAIGHT_MBPS is the throttle itself.
 */
final class ColdSourcesReport {
    static final List<String> SOURCES = List.of("rclone-http", "s3fs", "rclone-s3", "local");
    static final List<String> READERS = List.of("dd", "channel", "mmap", "shuffled");
    static final Map<String, String> READER_NAMES = Map.of(
            "dd", "dd bs=1M",
            "channel", "FileChannel, 1 MiB",
            "mmap", "mmap safetensors loader",
            "shuffled", "4 MiB pieces, shuffled");
    /** Every CacheFS reader at least this fraction of the straight dd of the same source. */
    static final double TARGET = 0.95;

    /** One straight read and the CacheFS read right after it. */
    record Pair(double straight, double cachefs) {
        double ratio() {
            return cachefs / straight;
        }
    }

    private final Map<String, List<Pair>> pairs = new LinkedHashMap<>();
    private final Map<String, List<String>> adaptations = new LinkedHashMap<>();
    private final Map<String, String> facts;

    ColdSourcesReport(Map<String, String> facts) {
        this.facts = facts;
    }

    /** {@code ColdSourcesReport RAW.tsv OUT_DIR}: the section alone, for bench/cold-sources run by itself. */
    public static void main(String[] args) throws IOException {
        Map<String, String> facts = new LinkedHashMap<>();
        ColdSourcesReport report = new ColdSourcesReport(facts);
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] f = line.split("\t");
            if (f[0].equals("fact")) {
                facts.put(f[1], f.length > 2 ? f[2] : "");
            } else {
                report.load(f);
            }
        }
        StringBuilder md = new StringBuilder("# Cold reads by source kind (bench/cold-sources)\n\n");
        report.markdown(md);
        md.append("| target | reader | measured | needed | verdict |\n|---|---|---:|---:|---|\n");
        for (BenchReport.Verdict v : report.targets()) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s %.2f | **%s** |%n", v.target(), v.reader(),
                    v.value().isPresent() ? String.format(Locale.ROOT, "%.2f", v.value().getAsDouble()) : "–",
                    v.atMost() ? "≤" : "≥", v.bound(), v.verdict()));
        }
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        Files.writeString(out.resolve("cold-sources.md"), md);
        report.chart(out.resolve("cold-sources.png"));
        System.out.print(md);
    }

    /** Takes a raw line; false if it is not one of this section's. */
    boolean load(String[] f) {
        switch (f[0]) {
            case "pair" -> pairs.computeIfAbsent(f[1] + "/" + f[2], k -> new ArrayList<>())
                    .add(new Pair(Double.parseDouble(f[3]), Double.parseDouble(f[4])));
            case "adapt" -> adaptations.computeIfAbsent(f[1] + "/" + f[2], k -> new ArrayList<>()).add(f[3]);
            default -> {
                return false;
            }
        }
        return true;
    }

    boolean isEmpty() {
        return pairs.isEmpty();
    }

    List<Pair> pairs(String source, String reader) {
        return pairs.getOrDefault(source + "/" + reader, List.of());
    }

    /** The median of the pair-by-pair ratios: each CacheFS read against the straight read beside it. */
    OptionalDouble pairedRatio(String source, String reader) {
        return BenchReport.median(pairs(source, reader).stream().map(Pair::ratio).toList());
    }

    /** The best straight read of a source in this run, over every reader's pairs. */
    OptionalDouble bestStraight(String source) {
        return READERS.stream().flatMap(r -> pairs(source, r).stream()).mapToDouble(Pair::straight).max();
    }

    OptionalDouble cachefsMedian(String source, String reader) {
        return BenchReport.median(pairs(source, reader).stream().map(Pair::cachefs).toList());
    }

    List<BenchReport.Verdict> targets() {
        List<BenchReport.Verdict> v = new ArrayList<>();
        for (String source : SOURCES) {
            for (String reader : READERS) {
                if (!pairs(source, reader).isEmpty()) {
                    String against = source.equals("local") ? "the throttle" : "straight dd of the source";
                    v.add(new BenchReport.Verdict("cold read through " + source + " ≥ " + TARGET + "x " + against
                            + " (paired)", reader, pairedRatio(source, reader), TARGET, false, "x"));
                }
            }
        }
        long peak = BenchReport.parseLong(facts.get("cold_peak_rss_bytes"), -1);
        long capacity = BenchReport.parseLong(facts.get("cold_capacity_bytes"), -1);
        if (peak > 0 && capacity > 0) {
            v.add(new BenchReport.Verdict("cold reads: daemon peak RSS ≤ capacity + 256 MiB", "-",
                    OptionalDouble.of(peak / 1048576.0), capacity / 1048576.0 + 256, true, "MiB"));
        }
        return v;
    }

    void markdown(StringBuilder md) {
        md.append("## 9. Cold read by source kind\n\n");
        md.append(facts.getOrDefault("cold_method", "")).append("\n\n");
        md.append("| source | reader | straight dd, median MB/s | CacheFS, median MB/s | CacheFS / straight, paired median"
                + " | CacheFS / best straight | pairs | what the adaptation chose |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|---|\n");
        for (String source : SOURCES) {
            OptionalDouble best = bestStraight(source);
            for (String reader : READERS) {
                List<Pair> list = pairs(source, reader);
                if (list.isEmpty()) {
                    continue;
                }
                OptionalDouble straight = BenchReport.median(list.stream().map(Pair::straight).toList());
                OptionalDouble cachefs = cachefsMedian(source, reader);
                md.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.0f | %s | %s | %d | %s |%n",
                        facts.getOrDefault("cold_" + source + "_label", source), READER_NAMES.get(reader),
                        straight.getAsDouble(), cachefs.getAsDouble(), times(pairedRatio(source, reader)),
                        best.isPresent() ? times(OptionalDouble.of(cachefs.getAsDouble() / best.getAsDouble())) : "–",
                        list.size(), String.join("; ", adaptations.getOrDefault(source + "/" + reader, List.of()))));
            }
        }
        md.append('\n');
        appendPerSource(md, "Source opens by each daemon: ", "opens", text -> ": " + text);
        appendPerSource(md, "Each fresh daemon's first read (dd, a file of its own before the pairs, on code not yet "
                + "compiled; not in the ratios): ", "first", rate -> " " + Math.round(Double.parseDouble(rate)) + " MB/s");
        long peak = BenchReport.parseLong(facts.get("cold_peak_rss_bytes"), -1);
        if (peak > 0) {
            md.append(String.format(Locale.ROOT, "Largest daemon peak RSS (VmHWM) over these reads: %s with `--capacity %s`.%n%n",
                    BenchReport.mib(peak), BenchReport.mib(BenchReport.parseLong(facts.get("cold_capacity_bytes"), 0))));
        }
    }

    /** One line of "source TEXT; ..." from the facts cold_SOURCE_NAME, in source order; nothing if none. */
    private void appendPerSource(StringBuilder md, String lead, String name, UnaryOperator<String> text) {
        List<String> parts = new ArrayList<>();
        for (String source : SOURCES) {
            String fact = facts.get("cold_" + source + "_" + name);
            if (fact != null) {
                parts.add(source + text.apply(fact));
            }
        }
        if (!parts.isEmpty()) {
            md.append(lead).append(String.join("; ", parts)).append(".\n\n");
        }
    }

    void toJson(ObjectNode root) {
        ArrayNode cold = root.putArray("cold_by_source");
        for (String source : SOURCES) {
            for (String reader : READERS) {
                List<Pair> list = pairs(source, reader);
                if (list.isEmpty()) {
                    continue;
                }
                ObjectNode o = cold.addObject().put("source", source).put("reader", reader);
                ArrayNode a = o.putArray("pairs_mbps");
                list.forEach(p -> a.addArray().add(p.straight()).add(p.cachefs()));
                pairedRatio(source, reader).ifPresent(r -> o.put("paired_ratio", r));
                ArrayNode chosen = o.putArray("adaptation");
                adaptations.getOrDefault(source + "/" + reader, List.of()).forEach(chosen::add);
            }
        }
    }

    /** Bars: straight dd and each CacheFS reader, per source (linear: the rates are within one order). */
    void chart(Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(1400).height(700)
                .title("Cold read by source kind: median MB/s, straight vs through CacheFS (higher is better)")
                .xAxisTitle("").yAxisTitle("MB/s (10^6 bytes/s)").build();
        var style = chart.getStyler();
        style.setLegendPosition(Styler.LegendPosition.OutsideS);
        style.setLegendLayout(Styler.LegendLayout.Horizontal);
        style.setLabelsVisible(true);
        style.setLabelsFontColorAutomaticEnabled(false);
        style.setLabelsFontColor(Color.DARK_GRAY);
        style.setLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        style.setLabelsRotation(90);
        style.setLabelsPosition(0.5);
        style.setDecimalPattern("#,##0");
        style.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        style.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        style.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        style.setChartBackgroundColor(Color.WHITE);
        style.setPlotGridVerticalLinesVisible(false);
        style.setSeriesColors(new Color[] {Color.GRAY, new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
                new Color(0x9467bd)});
        List<String> categories = new ArrayList<>();
        for (String source : SOURCES) {
            if (bestStraight(source).isPresent()) {
                categories.add(facts.getOrDefault("cold_" + source + "_chart", source));
            }
        }
        List<Double> straight = new ArrayList<>();
        for (String source : SOURCES) {
            if (bestStraight(source).isPresent()) {
                straight.add(BenchReport.median(READERS.stream().flatMap(r -> pairs(source, r).stream())
                        .map(Pair::straight).toList()).getAsDouble());
            }
        }
        chart.addSeries("straight dd (or the throttle)", categories, straight);
        for (String reader : READERS) {
            List<Double> values = new ArrayList<>();
            for (String source : SOURCES) {
                if (bestStraight(source).isPresent()) {
                    OptionalDouble m = cachefsMedian(source, reader);
                    values.add(m.isPresent() ? m.getAsDouble() : 0.0);
                }
            }
            chart.addSeries("CacheFS: " + READER_NAMES.get(reader), categories, values);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static String times(OptionalDouble ratio) {
        return ratio.isPresent() ? String.format(Locale.ROOT, "%.2fx", ratio.getAsDouble()) : "–";
    }
}
