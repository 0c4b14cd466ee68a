package dev.scopegate.loadtest.jmh;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import dev.scopegate.logging.BufferedLineAppender;
import dev.scopegate.logging.Lines;
import dev.scopegate.proxy.AccessLog;
import dev.scopegate.proxy.route.RouteKind;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One access line as the frontend writes it per request ({@code AccessLog.exchange}, text
 * layout), through the gateway's buffered appender and line encoder ({@code logback-bench.xml}),
 * the same appender with Logback's pattern encoder ({@code logback-bench-pattern.xml}), through the
 * AsyncAppender the appender replaced ({@code logback-bench-async.xml}), all into /dev/null, or not at all
 * ({@code off}: the access logger switched off). Run pinned to one CPU, as the gateway runs, so
 * the time includes the writer thread's work.
 *
 * <p>{@code exchange} logs back to back: the async worker never sleeps (and drops what its queue
 * cannot hold), so it hides the cost that matters. {@code requestThenExchange} spends
 * {@value #REQUEST_WORK} JMH tokens (about 20 µs here) per line, like a gateway between two
 * requests: an idle async worker is woken, switched to and writes one line per request, the
 * buffered writer once per 64 KiB. Its difference from {@code off} is what the log costs a request.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-Dlogback.configurationFile=logback-bench.xml"})
@State(Scope.Thread)
public class AccessLogBenchmark {

    static final long REQUEST_WORK = 8000;

    @Param({"logback-bench.xml", "logback-bench-pattern.xml", "logback-bench-async.xml", "off"})
    public String config;

    private final AccessLog access = new AccessLog(false, Lines::info);
    private LoggerContext context;
    private long lines;
    private long switchesAtStart;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        boolean off = config.equals("off");
        configurator.doConfigure(AccessLogBenchmark.class.getResource("/" + (off ? "logback-bench.xml" : config)));
        if (off) {
            context.getLogger("scopegate.access").setLevel(ch.qos.logback.classic.Level.OFF);
        }
        switchesAtStart = contextSwitches();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        long switches = contextSwitches() - switchesAtStart;
        System.err.printf("%n%s: %d lines, %.3f context switches per line (all threads), %d dropped by the buffered appender%n",
                config, lines, lines == 0 ? 0.0 : (double) switches / lines, BufferedLineAppender.droppedIn(context));
        context.stop();
    }

    @Benchmark
    public void exchange() {
        lines++;
        access.exchange("127.0.0.1", "GET", "/oauth/authorize", 302, 0, 512, 1_500_000, 2_500_000, RouteKind.AUTHORIZE);
    }

    /** The line of a reconnect: its target is longer than the 256 characters a line shows. */
    @Benchmark
    public void exchangeLongTarget() {
        lines++;
        access.exchange("127.0.0.1", "GET", Fixture.RECONNECT_URI, 302, 0, 512, 1_500_000, 2_500_000,
                RouteKind.AUTHORIZE);
    }

    @Benchmark
    public void requestThenExchange() {
        Blackhole.consumeCPU(REQUEST_WORK);
        lines++;
        access.exchange("127.0.0.1", "GET", "/oauth/authorize", 302, 0, 512, 1_500_000, 2_500_000, RouteKind.AUTHORIZE);
    }

    /** Voluntary and involuntary context switches of every thread of this JVM so far (Linux; 0 elsewhere). */
    static long contextSwitches() {
        long sum = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"))) {
                        if (line.contains("ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException threadEnded) {
                    // gone between list and read
                }
            }
        } catch (IOException notLinux) {
            return 0;
        }
        return sum;
    }
}
