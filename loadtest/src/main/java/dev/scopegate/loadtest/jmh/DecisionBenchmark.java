package dev.scopegate.loadtest.jmh;

import dev.scopegate.oauth.ParamCodec;
import dev.scopegate.oauth.Params;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import dev.scopegate.oauth.scope.Decision;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * The scope decision ({@code ScopeNormalizer} → {@code ScopeResolver}, registrations from the
 * Caffeine cache) for a registered client (cache hit) and for an unknown one (negative cache),
 * alone and together with parsing and the rewrite of the URI.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-Dlogback.configurationFile=logback-bench.xml"})
@State(Scope.Benchmark)
public class DecisionBenchmark {

    private Fixture fixture;
    private AuthorizationRequest known;
    private AuthorizationRequest unknown;
    private AuthorizationRequest knownWithoutResource;

    /** Store reads per operation: with negative caching, about zero for an unknown client. */
    @AuxCounters(AuxCounters.Type.EVENTS)
    @State(Scope.Thread)
    public static class StoreReads {
        public long storeReads;
    }

    @Setup(Level.Trial)
    public void setUp() {
        fixture = new Fixture();
        known = Fixture.toRequest(ParamCodec.parse(Fixture.RECONNECT_QUERY));
        unknown = Fixture.toRequest(ParamCodec.parse(Fixture.UNKNOWN_QUERY));
        knownWithoutResource = Fixture.toRequest(ParamCodec.parse(Fixture.RECONNECT_QUERY_WITHOUT_RESOURCE));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    /** The resolution chain on a cache hit: the request already extracted. */
    @Benchmark
    public Decision chainCacheHit() {
        return fixture.normalizer.decide(known).join();
    }

    /**
     * The same without a {@code resource} parameter: the difference is what looking up the
     * resource's metadata costs although the {@code registered} source wins first.
     */
    @Benchmark
    public Decision chainCacheHitWithoutResource() {
        return fixture.normalizer.decide(knownWithoutResource).join();
    }

    /**
     * Everything the router computes for a reconnect of a known client, bar metrics and the audit
     * line: parse, extract, decide (cache hit), append the scope, build the new URI.
     */
    @Benchmark
    public String decisionAndRewriteCacheHit() {
        Params p = ParamCodec.parse(Fixture.RECONNECT_QUERY);
        Decision d = fixture.normalizer.decide(Fixture.toRequest(p)).join();
        return Fixture.PATH + "?" + p.withScope(((Decision.AddScope) d).scope());
    }

    /** The same for a client scopegate never saw: the default scope, the store asked once per negative TTL. */
    @Benchmark
    public String decisionAndRewriteUnknownClient(StoreReads reads) {
        long before = fixture.store.reads();
        Params p = ParamCodec.parse(Fixture.UNKNOWN_QUERY);
        Decision d = fixture.normalizer.decide(Fixture.toRequest(p)).join();
        reads.storeReads += fixture.store.reads() - before;
        return Fixture.PATH + "?" + p.withScope(((Decision.AddScope) d).scope());
    }

    /** The decision alone for the unknown client (negative cache hit). */
    @Benchmark
    public Decision chainUnknownClient() {
        return fixture.normalizer.decide(unknown).join();
    }
}
