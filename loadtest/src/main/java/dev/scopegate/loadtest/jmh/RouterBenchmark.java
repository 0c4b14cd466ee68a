package dev.scopegate.loadtest.jmh;

import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.RouteKind;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * {@code RouteTable.plan} for an authorization request, as the frontend calls it: the whole
 * decision including the rewrite counter and the audit line (logged through the gateway's
 * buffered appender into /dev/null, see {@code logback-bench.xml}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-Dlogback.configurationFile=logback-bench.xml"})
@State(Scope.Thread)
public class RouterBenchmark {

    private Fixture fixture;
    private HttpRequest reconnect;
    private HttpRequest unknown;
    private HttpRequest connect;

    @Setup(Level.Trial)
    public void setUp() {
        fixture = new Fixture();
        reconnect = request(Fixture.RECONNECT_QUERY);
        unknown = request(Fixture.UNKNOWN_QUERY);
        connect = request(Fixture.CONNECT_QUERY);
    }

    private static HttpRequest request(String query) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, Fixture.PATH + "?" + query);
        r.headers().set("host", "my-domain");
        return r;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    /** Reconnect of a registered client: cache hit, scope appended, counted, audited. */
    @Benchmark
    public Plan reconnectCacheHit() {
        reconnect.setUri(Fixture.PATH + "?" + Fixture.RECONNECT_QUERY);
        return fixture.router.plan(reconnect, Fixture.PATH, RouteKind.AUTHORIZE);
    }

    /** Reconnect of an unknown client: negative cache hit, default scope. */
    @Benchmark
    public Plan reconnectUnknownClient() {
        unknown.setUri(Fixture.PATH + "?" + Fixture.UNKNOWN_QUERY);
        return fixture.router.plan(unknown, Fixture.PATH, RouteKind.AUTHORIZE);
    }

    /** A request with scope: left alone (a tap is planned to learn the scope from the IdP's answer). */
    @Benchmark
    public Plan withScopeUntouched() {
        return fixture.router.plan(connect, Fixture.PATH, RouteKind.AUTHORIZE);
    }
}
