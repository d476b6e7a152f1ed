package io.cachefs.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The bar chart of bench/run: median MB/s per case, one bar per reader, on a log scale (the cases
 * span from the 200 MiB/s source to tmpfs, two orders of magnitude). Rendered headless to a PNG.
 */
final class ThroughputChart {
    private ThroughputChart() {
    }

    static void write(BenchReport report, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(1600).height(900)
                .title("CacheFS bench/run: median read throughput (MB/s, log scale; higher is better)")
                .xAxisTitle("").yAxisTitle("MB/s (10^6 bytes/s)").build();
        var style = chart.getStyler();
        style.setYAxisLogarithmic(true);
        style.setLegendPosition(Styler.LegendPosition.OutsideS);
        style.setXAxisLabelRotation(20);
        style.setLegendLayout(Styler.LegendLayout.Horizontal);
        style.setLabelsVisible(true);
        style.setLabelsFontColorAutomaticEnabled(false);
        style.setLabelsFontColor(Color.DARK_GRAY);
        style.setLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        style.setLabelsRotation(90);
        style.setLabelsPosition(0.5);
        style.setLabelsFontColorAutomaticEnabled(false);
        style.setDecimalPattern("#,##0");
        style.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        style.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        style.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        style.setChartBackgroundColor(Color.WHITE);
        style.setPlotGridVerticalLinesVisible(false);
        style.setAvailableSpaceFill(0.8);
        style.setSeriesColors(new Color[] {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c)});

        List<String> categories = new ArrayList<>();
        for (var c : BenchReport.CASES) {
            boolean any = BenchReport.READERS.stream().anyMatch(r -> !report.runs(c.id(), r).isEmpty());
            if (any) {
                categories.add(c.chartLabel());
            }
        }
        double lowest = Double.MAX_VALUE;
        double highest = 0;
        for (String reader : BenchReport.READERS) {
            List<Double> values = new ArrayList<>();
            for (var c : BenchReport.CASES) {
                if (!categories.contains(c.chartLabel())) {
                    continue;
                }
                OptionalDouble m = report.median(c.id(), reader);
                values.add(m.isPresent() ? m.getAsDouble() : null);
                if (m.isPresent()) {
                    lowest = Math.min(lowest, m.getAsDouble());
                    highest = Math.max(highest, m.getAsDouble());
                }
            }
            chart.addSeries(BenchReport.READER_NAMES.get(reader), categories, values);
        }
        // bars start at 0 unless told otherwise, which a log axis cannot show
        style.setYAxisMin(Math.pow(10, Math.floor(Math.log10(Math.max(1, lowest)))));
        style.setYAxisMax(Math.pow(10, Math.ceil(Math.log10(Math.max(10, highest)))));
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
