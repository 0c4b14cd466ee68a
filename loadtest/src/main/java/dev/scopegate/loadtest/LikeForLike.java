package dev.scopegate.loadtest;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The table the performance issue asks for: each scopegate variant against the nginx that logs the
 * same way (access log on: nginx's buffered log; off: both off), per case and connection count,
 * with req/s, CPU per request and p50/p99/p99.9 as per-round ratios (median [min–max]) next to the
 * medians they come from. With {@code LT_BASELINE_JAR} also this build ÷ the baseline build.
 * Stateless; not thread-safe only through the {@link Report} it reads.
 */
final class LikeForLike {

    /** One comparison: {@code target} ÷ {@code reference}, described by {@code label}. */
    record Pair(String target, String reference, String label) {}

    /** Every pair the driver can produce, in the order they are printed; absent targets are skipped. */
    static final List<Pair> PAIRS = List.of(
            new Pair("scopegate", "nginx", "1 CPU, logs on"),
            new Pair("scopegate-2cpu", "nginx", "2 CPUs, logs on"),
            new Pair("scopegate-nolog", "nginx-nolog", "1 CPU, logs off"),
            new Pair("scopegate-nolog-2cpu", "nginx-nolog", "2 CPUs, logs off"),
            new Pair("scopegate", "nginx-unbuf", "1 CPU, logs on, nginx unbuffered"),
            new Pair("scopegate", "baseline", "this build ÷ LT_BASELINE_JAR (1 CPU, logs on)"));

    private LikeForLike() {
    }

    static void print(Report report, List<Integer> conns, PrintStream out) {
        out.println("## Like for like");
        out.println();
        out.println("Each scopegate variant ÷ the nginx that logs the same way: access log on = scopegate's buffered "
                + "appender vs nginx `access_log … buffer=64k flush=1s`; off = `logging.access: false` vs "
                + "`access_log off`. \"1 CPU\" / \"2 CPUs\" is what the JVM is told (`-XX:ActiveProcessorCount`); "
                + "every proxy runs on the same one core (CPU 1) with the IdP simulator. Ratios are per round, then "
                + "median [min–max]; the absolute figures are medians (µs).");
        out.println();
        out.println("| case | conns | variant | req/s ratio | CPU/req ratio | p50 ratio | p99 ratio | p99.9 ratio "
                + "| ref req/s · CPU µs · p99 · p99.9 | scopegate req/s · CPU µs · p99 · p99.9 | errors |");
        out.println("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (String c : Report.CASES.keySet()) {
            for (int n : conns) {
                for (Pair p : PAIRS) {
                    if (report.of(c, n, p.target()).isEmpty() || report.of(c, n, p.reference()).isEmpty()) {
                        continue;
                    }
                    out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d / %d |%n",
                            Report.CASES.get(c), n, p.label(),
                            report.ratio(c, n, p.target(), p.reference(), Report.Run::rps).ratio(),
                            report.ratio(c, n, p.target(), p.reference(), Report.Run::cpuMicrosPerRequest).ratio(),
                            report.ratio(c, n, p.target(), p.reference(), Report.Run::p50).ratio(),
                            report.ratio(c, n, p.target(), p.reference(), Report.Run::p99).ratio(),
                            report.ratio(c, n, p.target(), p.reference(), Report.Run::p999).ratio(),
                            absolute(report, c, n, p.reference()), absolute(report, c, n, p.target()),
                            report.errors(c, n, p.reference()), report.errors(c, n, p.target()));
                }
            }
        }
        out.println();
    }

    private static String absolute(Report r, String c, int n, String target) {
        return Report.fmt0(r.median(c, n, target, Report.Run::rps).median()) + " · "
                + Report.fmt1(r.median(c, n, target, Report.Run::cpuMicrosPerRequest).median()) + " · "
                + Report.fmt0(r.median(c, n, target, Report.Run::p99).median()) + " · "
                + Report.fmt0(r.median(c, n, target, Report.Run::p999).median());
    }
}
