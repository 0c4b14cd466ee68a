package dev.scopegate.loadtest;

import jdk.jfr.consumer.RecordedClass;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Summarizes a JFR recording of the gateway under load as markdown: where CPU samples land (top
 * frames, and the share spent in logging, the scope decision, HTTP codecs, syscalls), how much is
 * allocated per request and by whom, lock contention, and GC pauses.
 *
 * <p>Usage: {@code java -cp loadtest/target/benchmarks.jar dev.scopegate.loadtest.JfrReport
 * RECORDING.jfr REQUESTS [TOP]}, {@code REQUESTS} being how many requests the gateway served
 * while recording. Not thread-safe; one run per instance.
 */
public final class JfrReport {

    private final Map<String, Long> topFrames = new HashMap<>();
    private final Map<String, Long> ownFrames = new HashMap<>();
    private final Map<String, Long> categories = new HashMap<>();
    private final Map<String, Long> allocByClass = new HashMap<>();
    private final Map<String, Long> allocBySite = new HashMap<>();
    private final Map<String, long[]> threadAlloc = new HashMap<>();
    private final Map<String, long[]> monitors = new HashMap<>();
    private final Map<String, long[]> parks = new HashMap<>();
    private final Map<String, Long> samplesByThread = new HashMap<>();
    /** Per thread: sum of user load, sum of system load, number of readings. */
    private final Map<String, double[]> threadLoad = new HashMap<>();
    private long samples;
    private long allocSampled;
    private long gcCount;
    private long gcPauseNanos;
    private long gcLongestNanos;

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: JfrReport RECORDING.jfr REQUESTS [TOP]");
            System.exit(64);
        }
        JfrReport r = new JfrReport();
        r.read(Path.of(args[0]));
        r.print(System.out, Long.parseLong(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 12);
    }

    void read(Path file) throws IOException {
        try (RecordingFile f = new RecordingFile(file)) {
            while (f.hasMoreEvents()) {
                RecordedEvent e = f.readEvent();
                switch (e.getEventType().getName()) {
                    case "jdk.ExecutionSample" -> sample(e);
                    case "jdk.ObjectAllocationSample" -> allocation(e);
                    case "jdk.ThreadAllocationStatistics" -> threadAllocation(e);
                    case "jdk.JavaMonitorEnter" -> blocked(monitors, e, className(e, "monitorClass"));
                    case "jdk.ThreadPark" -> blocked(parks, e, className(e, "parkedClass"));
                    case "jdk.GarbageCollection" -> gc(e);
                    case "jdk.ThreadCPULoad" -> threadLoad(e);
                    default -> { }
                }
            }
        }
    }

    private void sample(RecordedEvent e) {
        RecordedStackTrace st = e.getStackTrace();
        if (st == null || st.getFrames().isEmpty()) {
            return;
        }
        samples++;
        RecordedThread t = e.getThread("sampledThread");
        samplesByThread.merge(threadGroupName(t), 1L, Long::sum);
        List<RecordedFrame> frames = st.getFrames();
        topFrames.merge(frameName(frames.get(0)), 1L, Long::sum);
        for (RecordedFrame fr : frames) {
            String type = typeName(fr);
            if (type.startsWith("dev.scopegate.")) {
                ownFrames.merge(frameName(fr), 1L, Long::sum);
                break;
            }
        }
        categories.merge(category(frames), 1L, Long::sum);
    }

    /**
     * Logging, metrics and the scope decision are leaf calls, so a stack containing them anywhere
     * is theirs; otherwise the innermost frame of a known package decides (every inbound stack
     * runs under the HTTP decoder, so only a codec frame <em>above</em> the proxy's counts).
     */
    private static String category(List<RecordedFrame> frames) {
        boolean logging = false;
        boolean decision = false;
        boolean metrics = false;
        for (RecordedFrame fr : frames) {
            String type = typeName(fr);
            if (type.startsWith("ch.qos.logback") || type.startsWith("org.slf4j") || type.endsWith(".AccessLog")
                    || type.endsWith(".AuditLog")) {
                logging = true;
            } else if (type.startsWith("io.micrometer") || type.startsWith("dev.scopegate.metrics")) {
                metrics = true;
            } else if (type.startsWith("dev.scopegate.oauth") || type.startsWith("dev.scopegate.proxy.route")
                    || type.startsWith("com.github.benmanes.caffeine") || type.startsWith("dev.scopegate.store")) {
                decision = true;
            }
        }
        if (logging) {
            return "logging (logback, access/audit log)";
        }
        if (metrics) {
            return "metrics (micrometer)";
        }
        if (decision) {
            return "OAuth logic: scope decision, param codec, registrations (parse, cache, store)";
        }
        for (RecordedFrame fr : frames) {
            String type = typeName(fr);
            if (type.startsWith("io.netty.handler.codec")) {
                return "HTTP/1 codec (netty)";
            }
            if (type.startsWith("dev.scopegate")) {
                return "scopegate proxy (frontend, upstream pool, hop-by-hop headers)";
            }
            if (type.startsWith("io.netty.channel.epoll") || type.startsWith("io.netty.channel.unix")
                    || type.startsWith("sun.nio.ch")) {
                return "socket I/O (epoll, read/write)";
            }
            if (type.startsWith("io.netty.buffer")) {
                return "buffers (netty)";
            }
            if (type.startsWith("io.netty")) {
                return "pipeline, promises, event loop (netty)";
            }
        }
        return "other (JDK, GC-related, JIT'd glue)";
    }

    private void allocation(RecordedEvent e) {
        long weight = e.getLong("weight");
        allocSampled += weight;
        allocByClass.merge(className(e, "objectClass"), weight, Long::sum);
        RecordedStackTrace st = e.getStackTrace();
        if (st != null) {
            String site = null;
            for (RecordedFrame fr : st.getFrames()) {
                if (typeName(fr).startsWith("dev.scopegate.")) {
                    site = frameName(fr);
                    break;
                }
            }
            if (site == null && !st.getFrames().isEmpty()) {
                site = frameName(st.getFrames().get(0)) + " (no scopegate frame)";
            }
            if (site != null) {
                allocBySite.merge(site, weight, Long::sum);
            }
        }
    }

    private void threadAllocation(RecordedEvent e) {
        RecordedThread t = e.getThread("thread");
        if (t == null) {
            return;
        }
        String key = t.getJavaName() + "#" + t.getJavaThreadId();
        long allocated = e.getLong("allocated");
        long[] range = threadAlloc.computeIfAbsent(key, k -> new long[]{allocated, allocated});
        range[0] = Math.min(range[0], allocated);
        range[1] = Math.max(range[1], allocated);
    }

    private static void blocked(Map<String, long[]> into, RecordedEvent e, String what) {
        RecordedStackTrace st = e.getStackTrace();
        String site = "?";
        if (st != null) {
            for (RecordedFrame fr : st.getFrames()) {
                String type = typeName(fr);
                if (!type.startsWith("java.") && !type.startsWith("jdk.") && !type.startsWith("sun.")) {
                    site = frameName(fr);
                    break;
                }
            }
        }
        String thread = threadGroupName(e.getThread("eventThread"));
        long[] v = into.computeIfAbsent(what + " at " + site + " [" + thread + "]", k -> new long[2]);
        v[0]++;
        v[1] += e.getDuration().toNanos();
    }

    private void threadLoad(RecordedEvent e) {
        double[] v = threadLoad.computeIfAbsent(threadGroupName(e.getThread("eventThread")), k -> new double[3]);
        v[0] += e.getFloat("user");
        v[1] += e.getFloat("system");
        v[2]++;
    }

    private void gc(RecordedEvent e) {
        gcCount++;
        long pause = e.getDuration("sumOfPauses").toNanos();
        gcPauseNanos += pause;
        gcLongestNanos = Math.max(gcLongestNanos, e.getDuration("longestPause").toNanos());
    }

    void print(PrintStream out, long requests, int top) {
        long perThread = 0;
        for (long[] r : threadAlloc.values()) {
            perThread += r[1] - r[0];
        }
        out.printf(Locale.ROOT, "- CPU samples: %d; requests while recording: %d%n", samples, requests);
        if (requests > 0) {
            out.printf(Locale.ROOT, "- allocated per request: %s (JFR thread allocation statistics, all threads)%n",
                    bytes(perThread / (double) requests));
        }
        out.printf(Locale.ROOT, "- GC: %d collections, %.1f ms paused in total, longest pause %.2f ms%n",
                gcCount, gcPauseNanos / 1e6, gcLongestNanos / 1e6);
        out.println();
        out.println("CPU samples by activity (a sample counts once, logging before metrics before decision):");
        out.println();
        table(out, "activity", categories, samples, top);
        if (!threadLoad.isEmpty()) {
            out.println("CPU load by thread (jdk.ThreadCPULoad, share of one CPU, averaged; includes time in the kernel, "
                    + "which Java samples do not see):");
            out.println();
            out.println("| thread | user | system |");
            out.println("|---|---:|---:|");
            threadLoad.entrySet().stream()
                    .sorted(Comparator.comparingDouble((Map.Entry<String, double[]> en) ->
                            -(en.getValue()[0] + en.getValue()[1]) / en.getValue()[2]))
                    .limit(top)
                    .forEach(en -> out.printf(Locale.ROOT, "| `%s` | %.1f%% | %.1f%% |%n", en.getKey(),
                            100 * en.getValue()[0] / en.getValue()[2], 100 * en.getValue()[1] / en.getValue()[2]));
            out.println();
        }
        out.println("Java CPU samples by thread:");
        out.println();
        table(out, "thread", samplesByThread, samples, top);
        out.println("Hottest top frames:");
        out.println();
        table(out, "method (top frame)", topFrames, samples, top);
        out.println("Innermost scopegate frame of each sample:");
        out.println();
        table(out, "scopegate method", ownFrames, samples, top);
        out.println("Allocation by class (sampled weight):");
        out.println();
        table(out, "class", allocByClass, allocSampled, top);
        out.println("Allocation by innermost scopegate frame (sampled weight):");
        out.println();
        table(out, "site", allocBySite, allocSampled, top);
        out.println("Lock contention (monitor enter over JFR's threshold):");
        out.println();
        durations(out, monitors, top);
        out.println("Parking (over JFR's threshold; idle waits of pool threads included):");
        out.println();
        durations(out, parks, top);
    }

    private static void table(PrintStream out, String what, Map<String, Long> counts, long total, int top) {
        out.println("| " + what + " | share |");
        out.println("|---|---:|");
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(en -> out.printf(Locale.ROOT, "| `%s` | %.1f%% |%n", en.getKey(),
                        total == 0 ? 0.0 : 100.0 * en.getValue() / total));
        out.println();
    }

    private static void durations(PrintStream out, Map<String, long[]> m, int top) {
        if (m.isEmpty()) {
            out.println("none recorded");
            out.println();
            return;
        }
        out.println("| where | events | total ms |");
        out.println("|---|---:|---:|");
        m.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, long[]> en) -> en.getValue()[1]).reversed())
                .limit(top)
                .forEach(en -> out.printf(Locale.ROOT, "| `%s` | %d | %.1f |%n", en.getKey(), en.getValue()[0],
                        en.getValue()[1] / 1e6));
        out.println();
    }

    private static String bytes(double b) {
        return b >= 1024 ? String.format(Locale.ROOT, "%.1f KiB", b / 1024) : String.format(Locale.ROOT, "%.0f B", b);
    }

    private static String className(RecordedEvent e, String field) {
        RecordedClass c = e.getClass(field);
        return c == null ? "?" : c.getName();
    }

    private static String typeName(RecordedFrame fr) {
        RecordedMethod m = fr.getMethod();
        return m == null || m.getType() == null ? "?" : m.getType().getName();
    }

    private static String frameName(RecordedFrame fr) {
        RecordedMethod m = fr.getMethod();
        if (m == null) {
            return "?";
        }
        String type = m.getType() == null ? "?" : m.getType().getName();
        int dot = type.lastIndexOf('.');
        return type.substring(dot + 1) + "." + m.getName() + (fr.getLineNumber() > 0 ? ":" + fr.getLineNumber() : "");
    }

    /** Thread names without their trailing numbers, so pools group together. */
    private static String threadGroupName(RecordedThread t) {
        if (t == null) {
            return "?";
        }
        String n = t.getJavaName() != null ? t.getJavaName() : t.getOSName();
        return n == null ? "?" : n.replaceAll("[-#]?\\d+$", "").replaceAll("-\\d+-", "-N-");
    }
}
