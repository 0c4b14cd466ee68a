package dev.scopegate.loadtest;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ReportTest {

    private static Report.Run run(int round, String target, double rps, double p99, double cpu) {
        return new Report.Run(round, "get", 32, target, rps, (long) rps, 100, p99, 2 * p99, 0, cpu);
    }

    @Test
    void ratiosArePairedPerRoundThenSummarized() {
        Report report = new Report(List.of(
                run(1, "nginx", 100, 10, 30), run(1, "scopegate", 90, 12, 33),
                run(2, "scopegate", 50, 20, 40), run(2, "nginx", 100, 10, 30),
                run(3, "nginx", 80, 10, 30), run(3, "scopegate", 100, 10, 27)), new Properties());
        Report.Spread rps = report.ratio("get", 32, "scopegate", "nginx", Report.Run::rps);
        assertThat(rps.n()).isEqualTo(3);
        assertThat(rps.median()).isCloseTo(0.9, within(1e-9));
        assertThat(rps.min()).isCloseTo(0.5, within(1e-9));
        assertThat(rps.max()).isCloseTo(1.25, within(1e-9));
        assertThat(rps.ratio()).isEqualTo("0.90 [0.50–1.25]");
        assertThat(report.median("get", 32, "nginx", Report.Run::rps).median()).isEqualTo(100);
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertThat(Report.Spread.of(List.of(4.0, 1.0, 3.0, 2.0)).median()).isEqualTo(2.5);
        assertThat(Report.Spread.of(List.of()).ratio()).isEqualTo("–");
    }

    @Test
    void parsesTheDriversRowsAndPrintsTargets() {
        Report.Run r = Report.Run.parse("2\tauthz-hit\t32\tscopegate\t21000.5\t84002\t1200\t4100\t9000\t0\t41.25");
        assertThat(r.round()).isEqualTo(2);
        assertThat(r.caseId()).isEqualTo("authz-hit");
        assertThat(r.cpuMicrosPerRequest()).isEqualTo(41.25);

        Properties facts = new Properties();
        facts.setProperty("rss.scopegate", "180 MiB");
        facts.setProperty("rss.verdict", "met");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new Report(List.of(run(1, "nginx", 100, 10, 30), run(1, "scopegate", 95, 12, 31),
                run(1, "nginx-nolog", 110, 10, 25), run(1, "scopegate-nolog-2cpu", 121, 11, 25)), facts)
                .print(new PrintStream(bytes, true, StandardCharsets.UTF_8), null, null);
        String md = bytes.toString(StandardCharsets.UTF_8);
        assertThat(md).contains("| GET pass-through | 32 | 100 | 95 | 0.95 | 30.0 | 31.0 | 1.03 |")
                .contains("| GET pass-through, c=32: req/s ≥ 1.0× nginx | 0.95 | **not met** |")
                .contains("| GET pass-through, c=32: CPU/req ≤ 1.05× nginx | 1.03 | met |")
                .contains("| GET pass-through, c=32: p99 ≤ 1.3× nginx | 1.20 | met |")
                .contains("| gateway RSS ≤ 256 MiB after the load run, shipped JVM flags | 180 MiB | met |")
                // like for like: each variant against the nginx that logs the same way
                .contains("| GET pass-through | 32 | 1 CPU, logs on | 0.95 | 1.03 | ")
                .contains("| GET pass-through | 32 | 2 CPUs, logs off | 1.10 | 1.00 | ")
                .doesNotContain("| 2 CPUs, logs on |");
    }

    @Test
    void readsJmhJson() {
        String json = "[{\"benchmark\":\"dev.scopegate.loadtest.jmh.DecisionBenchmark.chainCacheHit\","
                + "\"primaryMetric\":{\"score\":123.4,\"scoreError\":5.6,\"scoreUnit\":\"ns/op\"},"
                + "\"secondaryMetrics\":{\"gc.alloc.rate.norm\":{\"score\":96.0}}}]";
        Report.JmhResult r = Report.jmh(json).get("DecisionBenchmark.chainCacheHit");
        assertThat(r.score()).isEqualTo(123.4);
        assertThat(r.allocNorm()).isEqualTo(96.0);
        assertThat(r.storeReads()).isNaN();
    }

    @Test
    void keepsOneRowPerParameterCombination() {
        String json = "[{\"benchmark\":\"dev.scopegate.loadtest.jmh.AccessLogBenchmark.exchange\",\"params\":{\"config\":\"a.xml\"},"
                + "\"primaryMetric\":{\"score\":50.0,\"scoreError\":1.0,\"scoreUnit\":\"ns/op\"}},"
                + "{\"benchmark\":\"dev.scopegate.loadtest.jmh.AccessLogBenchmark.exchange\",\"params\":{\"config\":\"off\"},"
                + "\"primaryMetric\":{\"score\":2.0,\"scoreError\":0.1,\"scoreUnit\":\"ns/op\"}}]";
        assertThat(Report.jmh(json)).containsOnlyKeys("AccessLogBenchmark.exchange [config=a.xml]",
                "AccessLogBenchmark.exchange [config=off]");
        assertThat(Report.jmh(json).get("AccessLogBenchmark.exchange [config=a.xml]").score()).isEqualTo(50.0);
    }
}
