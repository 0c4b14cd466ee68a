package dev.scopegate.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.ToDoubleFunction;

/**
 * Turns the raw results of {@code loadtest/run.sh} into the markdown of
 * {@code loadtest/results/latest.md}: per case and connection count, the medians over rounds and
 * the per-round ratios against nginx (median, min, max), the access-log cost, the targets of the
 * performance issue with their verdicts, the JMH results and the JFR summary.
 *
 * <p>Usage: {@code Report RESULTS.tsv FACTS.properties [JMH.json|-] [JFR.md|-]}. Stateless apart
 * from what it reads; not thread-safe.
 */
public final class Report {

    /** One wrk run: one target, one case, one connection count, one round. */
    record Run(int round, String caseId, int conns, String target, double rps, long requests, double p50,
               double p99, double p999, long errors, double cpuMicrosPerRequest) {

        static Run parse(String line) {
            String[] f = line.split("\t");
            return new Run(Integer.parseInt(f[0]), f[1], Integer.parseInt(f[2]), f[3], Double.parseDouble(f[4]),
                    Long.parseLong(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]), Double.parseDouble(f[8]),
                    Long.parseLong(f[9]), Double.parseDouble(f[10]));
        }
    }

    /** Median, min and max of some values. */
    record Spread(double median, double min, double max, int n) {
        static Spread of(List<Double> values) {
            if (values.isEmpty()) {
                return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
            }
            List<Double> v = new ArrayList<>(values);
            Collections.sort(v);
            int n = v.size();
            double median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
            return new Spread(median, v.get(0), v.get(n - 1), n);
        }

        String ratio() {
            if (n == 0) {
                return "–";
            }
            return n == 1 ? fmt2(median) : fmt2(median) + " [" + fmt2(min) + "–" + fmt2(max) + "]";
        }
    }

    static final String NGINX = "nginx";
    static final String SCOPEGATE = "scopegate";
    static final String NOLOG = "scopegate-nolog";
    static final String DIRECT = "direct";

    static final Map<String, String> CASES = new LinkedHashMap<>();

    static {
        CASES.put("get", "GET pass-through");
        CASES.put("post", "POST JSON pass-through (~600 B)");
        CASES.put("authz-hit", "authorize without scope, registered client (cache hit → rewrite)");
        CASES.put("authz-unknown", "authorize without scope, unknown client (default scope)");
        CASES.put("authz-scope", "authorize with scope (untouched)");
        CASES.put("dcr", "DCR POST (scopegate persists before relaying)");
        CASES.put("metadata", "metadata GET (scopegate serves from its cache)");
    }

    /** The cases the issue sets throughput/CPU targets for. */
    static final List<String> TARGET_CASES = List.of("get", "post", "authz-hit");

    private final List<Run> runs;
    private final Properties facts;

    Report(List<Run> runs, Properties facts) {
        this.runs = List.copyOf(runs);
        this.facts = facts;
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: Report RESULTS.tsv FACTS.properties [JMH.json|-] [JFR.md|-]");
            System.exit(64);
        }
        List<Run> runs = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                runs.add(Run.parse(line));
            }
        }
        Properties facts = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[1]), StandardCharsets.UTF_8)) {
            facts.load(r);
        }
        Report report = new Report(runs, facts);
        String jmh = args.length > 2 && !args[2].equals("-") && Files.exists(Path.of(args[2]))
                ? Files.readString(Path.of(args[2])) : null;
        String jfr = args.length > 3 && !args[3].equals("-") && Files.exists(Path.of(args[3]))
                ? Files.readString(Path.of(args[3])) : null;
        report.print(System.out, jmh, jfr);
    }

    List<Run> of(String caseId, int conns, String target) {
        return runs.stream().filter(r -> r.caseId().equals(caseId) && r.conns() == conns && r.target().equals(target))
                .toList();
    }

    Spread median(String caseId, int conns, String target, ToDoubleFunction<Run> value) {
        return Spread.of(of(caseId, conns, target).stream().map(value::applyAsDouble).toList());
    }

    /** Per-round ratio {@code value(a) / value(b)} for the rounds that have both. */
    Spread ratio(String caseId, int conns, String a, String b, ToDoubleFunction<Run> value) {
        Map<Integer, Run> bs = new LinkedHashMap<>();
        of(caseId, conns, b).forEach(r -> bs.put(r.round(), r));
        List<Double> ratios = new ArrayList<>();
        for (Run ra : of(caseId, conns, a)) {
            Run rb = bs.get(ra.round());
            if (rb != null && value.applyAsDouble(rb) > 0) {
                ratios.add(value.applyAsDouble(ra) / value.applyAsDouble(rb));
            }
        }
        return Spread.of(ratios);
    }

    long errors(String caseId, int conns, String target) {
        return of(caseId, conns, target).stream().mapToLong(Run::errors).sum();
    }

    List<Integer> connCounts() {
        return runs.stream().map(Run::conns).distinct().sorted().toList();
    }

    private int rounds() {
        return (int) runs.stream().mapToInt(Run::round).distinct().count();
    }

    void print(PrintStream out, String jmhJson, String jfrMarkdown) {
        out.println("# scopegate vs nginx — load test results");
        out.println();
        out.println("Generated by `loadtest/run.sh` (do not edit by hand). " + fact("date", "?"));
        out.println();
        out.println("- command: `" + fact("command", "loadtest/run.sh") + "`");
        out.println("- machine: " + fact("machine", "?"));
        out.println("- software: " + fact("software", "?"));
        out.println("- setup: " + fact("setup", "?"));
        out.println("- load average (1 min) at start / end: " + fact("load.start", "?") + " / " + fact("load.end", "?")
                + (fact("load.note", "").isEmpty() ? "" : " — " + fact("load.note", "")));
        out.println("- " + rounds() + " interleaved rounds of " + fact("duration", "?") + " s per run (order alternates "
                + "every round: A B, B A, …); ratios are computed per round, then median [min–max] over rounds.");
        out.println();
        LikeForLike.print(this, connCounts(), out);
        printThroughput(out);
        printLatency(out);
        printAccessLog(out);
        printDirect(out);
        printTargets(out, jmhJson);
        if (jmhJson != null) {
            printJmh(out, jmhJson);
        }
        out.println("## Memory");
        out.println();
        out.println("- gateway RSS at the end of the load run (`-Xmx128m`): " + fact("rss.scopegate", "?")
                + "; peak (VmHWM): " + fact("hwm.scopegate", "?") + "; heap used: " + fact("heap.scopegate", "?"));
        out.println("- registrations cached at the end of the run: " + fact("cache.size", "?"));
        out.println("- registration footprint: " + fact("footprint", "not measured"));
        out.println();
        out.println("## Negative caching (unknown client)");
        out.println();
        out.println("- " + fact("negative", "not measured"));
        out.println();
        if (jfrMarkdown != null) {
            out.println("## JFR profile under load");
            out.println();
            out.println(fact("jfr.setup", ""));
            out.println();
            out.println(jfrMarkdown.strip());
            out.println();
        }
    }

    private void printThroughput(PrintStream out) {
        out.println("## Throughput and CPU per request");
        out.println();
        out.println("req/s and CPU are medians over rounds; ratios are scopegate ÷ nginx per round. "
                + "CPU is the proxy process's user+system time from `/proc/PID/stat` over the run, divided by the "
                + "requests it completed (nginx: master + worker).");
        out.println();
        out.println("| case | conns | nginx req/s | scopegate req/s | req/s ratio | nginx CPU µs/req | scopegate CPU µs/req | CPU ratio |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (String c : CASES.keySet()) {
            for (int conns : connCounts()) {
                if (of(c, conns, SCOPEGATE).isEmpty()) {
                    continue;
                }
                out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s |%n", CASES.get(c), conns,
                        fmt0(median(c, conns, NGINX, Run::rps).median()), fmt0(median(c, conns, SCOPEGATE, Run::rps).median()),
                        ratio(c, conns, SCOPEGATE, NGINX, Run::rps).ratio(),
                        fmt1(median(c, conns, NGINX, Run::cpuMicrosPerRequest).median()),
                        fmt1(median(c, conns, SCOPEGATE, Run::cpuMicrosPerRequest).median()),
                        ratio(c, conns, SCOPEGATE, NGINX, Run::cpuMicrosPerRequest).ratio());
            }
        }
        out.println();
    }

    private void printLatency(PrintStream out) {
        out.println("## Latency and errors");
        out.println();
        out.println("Latencies in µs as wrk reports them (closed loop), medians over rounds; the p99 ratio is per round. "
                + "Errors: socket errors + HTTP status ≥ 400 + responses that failed the script's check "
                + "(authorize: the query the IdP received must be exactly the expected one), summed over rounds.");
        out.println();
        out.println("| case | conns | nginx p50 / p99 / p99.9 | scopegate p50 / p99 / p99.9 | p99 ratio | errors nginx / scopegate |");
        out.println("|---|---:|---:|---:|---:|---:|");
        for (String c : CASES.keySet()) {
            for (int conns : connCounts()) {
                if (of(c, conns, SCOPEGATE).isEmpty()) {
                    continue;
                }
                out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s | %d / %d |%n", CASES.get(c), conns,
                        latencies(c, conns, NGINX), latencies(c, conns, SCOPEGATE),
                        ratio(c, conns, SCOPEGATE, NGINX, Run::p99).ratio(), errors(c, conns, NGINX),
                        errors(c, conns, SCOPEGATE));
            }
        }
        out.println();
    }

    private String latencies(String c, int conns, String target) {
        return fmt0(median(c, conns, target, Run::p50).median()) + " / " + fmt0(median(c, conns, target, Run::p99).median())
                + " / " + fmt0(median(c, conns, target, Run::p999).median());
    }

    private void printAccessLog(PrintStream out) {
        if (runs.stream().noneMatch(r -> r.target().equals(NOLOG))) {
            return;
        }
        out.println("## Access log cost");
        out.println();
        out.println("The same gateway build with `logging.access: false` (a second instance), interleaved with the "
                + "default one. Cost = 1 − (req/s with the log ÷ req/s without), per round.");
        out.println();
        out.println("| case | conns | req/s log on | req/s log off | throughput cost | CPU µs/req on / off |");
        out.println("|---|---:|---:|---:|---:|---:|");
        for (String c : CASES.keySet()) {
            for (int conns : connCounts()) {
                if (of(c, conns, NOLOG).isEmpty()) {
                    continue;
                }
                Spread r = ratio(c, conns, SCOPEGATE, NOLOG, Run::rps);
                out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s | %s / %s |%n", CASES.get(c), conns,
                        fmt0(median(c, conns, SCOPEGATE, Run::rps).median()), fmt0(median(c, conns, NOLOG, Run::rps).median()),
                        r.n() == 0 ? "–" : pct(1 - r.median()) + " [" + pct(1 - r.max()) + " – " + pct(1 - r.min()) + "]",
                        fmt1(median(c, conns, SCOPEGATE, Run::cpuMicrosPerRequest).median()),
                        fmt1(median(c, conns, NOLOG, Run::cpuMicrosPerRequest).median()));
            }
        }
        out.println();
    }

    private void printDirect(PrintStream out) {
        if (runs.stream().noneMatch(r -> r.target().equals(DIRECT))) {
            return;
        }
        out.println("## Reference: the simulator without a proxy");
        out.println();
        out.println("| case | conns | direct req/s | nginx ÷ direct | scopegate ÷ direct |");
        out.println("|---|---:|---:|---:|---:|");
        for (String c : CASES.keySet()) {
            for (int conns : connCounts()) {
                if (of(c, conns, DIRECT).isEmpty()) {
                    continue;
                }
                out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s |%n", CASES.get(c), conns,
                        fmt0(median(c, conns, DIRECT, Run::rps).median()),
                        ratio(c, conns, NGINX, DIRECT, Run::rps).ratio(), ratio(c, conns, SCOPEGATE, DIRECT, Run::rps).ratio());
            }
        }
        out.println();
    }

    private void printTargets(PrintStream out, String jmhJson) {
        out.println("## Targets");
        out.println();
        out.println("| target | measured | verdict |");
        out.println("|---|---|---|");
        int max = connCounts().isEmpty() ? 0 : connCounts().get(connCounts().size() - 1);
        for (String c : TARGET_CASES) {
            for (int conns : connCounts()) {
                Spread rps = ratio(c, conns, SCOPEGATE, NGINX, Run::rps);
                if (rps.n() == 0) {
                    continue;
                }
                if (conns == max) {
                    out.printf(Locale.ROOT, "| %s, c=%d: req/s ≥ 1.0× nginx | %s | %s |%n", CASES.get(c), conns,
                            rps.ratio(), verdict(rps.median() >= 1.0));
                }
                Spread cpu = ratio(c, conns, SCOPEGATE, NGINX, Run::cpuMicrosPerRequest);
                out.printf(Locale.ROOT, "| %s, c=%d: CPU/req ≤ 1.05× nginx | %s | %s |%n", CASES.get(c), conns,
                        cpu.ratio(), verdict(cpu.median() <= 1.05));
                Spread p99 = ratio(c, conns, SCOPEGATE, NGINX, Run::p99);
                double limit = conns == 1 ? 1.5 : 1.3;
                out.printf(Locale.ROOT, "| %s, c=%d: p99 ≤ %.1f× nginx | %s | %s |%n", CASES.get(c), conns, limit,
                        p99.ratio(), verdict(p99.median() <= limit));
            }
        }
        if (jmhJson != null) {
            JmhResult hit = jmh(jmhJson).get("DecisionBenchmark.decisionAndRewriteCacheHit");
            if (hit != null) {
                out.printf(Locale.ROOT, "| decision + rewrite on a cache hit ≤ 1 µs (JMH) | %s ns/op | %s |%n",
                        fmt0(hit.score()), verdict(hit.score() <= 1000));
                out.printf(Locale.ROOT, "| … allocating nothing beyond the new URI (%s B for this URI) | %s B/op | %s |%n",
                        fact("uri.bytes", "?"), fmt0(hit.allocNorm()),
                        // within 8 B: less than the smallest object, JMH's per-op figure carries amortised noise
                        verdict(hit.allocNorm() < Double.parseDouble(fact("uri.bytes", "0")) + 8));
            }
        }
        out.println("| unknown client: no store read per request | " + fact("negative.short", "?") + " | "
                + fact("negative.verdict", "?") + " |");
        out.println("| gateway RSS ≤ 256 MiB after the load run, shipped JVM flags | " + fact("rss.scopegate", "?") + " | "
                + fact("rss.verdict", "?") + " |");
        out.println("| 1M registrations in ≤ 300 MB of heap | " + fact("footprint.short", "?") + " | "
                + fact("footprint.verdict", "?") + " |");
        for (int conns : connCounts()) {
            List<Double> costs = new ArrayList<>();
            for (String c : TARGET_CASES) {
                Spread r = ratio(c, conns, SCOPEGATE, NOLOG, Run::rps);
                if (r.n() > 0) {
                    costs.add(1 - r.median());
                }
            }
            if (!costs.isEmpty()) {
                double worst = Collections.max(costs);
                out.printf(Locale.ROOT, "| access log costs ≤ ~10%% of throughput (c=%d, worst of GET/POST/authorize) | %s | %s |%n",
                        conns, pct(worst), verdict(worst <= 0.10));
            }
        }
        out.println();
    }

    /** A JMH result: average time and allocation per operation, plus the store reads counter if any. */
    record JmhResult(double score, double error, String unit, double allocNorm, double storeReads) {}

    static Map<String, JmhResult> jmh(String json) {
        Map<String, JmhResult> out = new LinkedHashMap<>();
        try {
            for (JsonNode b : new ObjectMapper().readTree(json)) {
                String name = b.path("benchmark").asText();
                name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
                // one row per parameter combination, not the last one under the method's name
                StringBuilder params = new StringBuilder();
                b.path("params").fields().forEachRemaining(e -> params.append(params.length() == 0 ? " [" : ", ")
                        .append(e.getKey()).append('=').append(e.getValue().asText()));
                if (params.length() > 0) {
                    name += params.append(']');
                }
                JsonNode p = b.path("primaryMetric");
                JsonNode sec = b.path("secondaryMetrics");
                double alloc = sec.path("gc.alloc.rate.norm").path("score").asDouble(Double.NaN);
                double reads = sec.path("storeReads").path("score").asDouble(Double.NaN);
                out.put(name, new JmhResult(p.path("score").asDouble(), p.path("scoreError").asDouble(Double.NaN),
                        p.path("scoreUnit").asText(), alloc, reads));
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable JMH results: " + e.getMessage(), e);
        }
        return out;
    }

    private void printJmh(PrintStream out, String json) {
        out.println("## JMH (`-prof gc`)");
        out.println();
        out.println(fact("jmh.setup", ""));
        out.println();
        out.println("| benchmark | time | ± (99.9%) | allocated B/op | store reads/op |");
        out.println("|---|---:|---:|---:|---:|");
        jmh(json).forEach((name, r) -> out.printf(Locale.ROOT, "| `%s` | %s %s | %s | %s | %s |%n", name,
                fmt1(r.score()), r.unit(), Double.isNaN(r.error()) ? "–" : fmt1(r.error()), fmt0(r.allocNorm()),
                Double.isNaN(r.storeReads()) ? "" : String.format(Locale.ROOT, "%.6f", r.storeReads())));
        out.println();
    }

    private String fact(String key, String fallback) {
        String v = facts.getProperty(key);
        return v == null || v.isBlank() ? fallback : v.strip();
    }

    private static String verdict(boolean ok) {
        return ok ? "met" : "**not met**";
    }

    static String fmt0(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%,.0f", v);
    }

    static String fmt1(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    static String fmt2(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v);
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f%%", 100 * v);
    }
}
