package dev.scopegate.loadtest.jmh;

import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import dev.scopegate.oauth.scope.Decision;
import dev.scopegate.oauth.scope.ScopeResolver;
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
        known = Fixture.toRequest(Fixture.RECONNECT_QUERY);
        unknown = Fixture.toRequest(Fixture.UNKNOWN_QUERY);
        knownWithoutResource = Fixture.toRequest(Fixture.RECONNECT_QUERY_WITHOUT_RESOURCE);
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
     * line: parse the query inside the request URI, extract, decide (cache hit), build the new URI
     * with the scope appended.
     */
    @Benchmark
    public String decisionAndRewriteCacheHit() {
        return decideAndRewrite(Fixture.RECONNECT_URI);
    }

    /** The same for a client scopegate never saw: the default scope, the store asked once per negative TTL. */
    @Benchmark
    public String decisionAndRewriteUnknownClient(StoreReads reads) {
        long before = fixture.store.reads();
        String uri = decideAndRewrite(UNKNOWN_URI);
        reads.storeReads += fixture.store.reads() - before;
        return uri;
    }

    private static final String UNKNOWN_URI = Fixture.PATH + "?" + Fixture.UNKNOWN_QUERY;

    /** As {@code AuthorizationRewrite} does it (its scope has no offline_access, so no prompt to check). */
    private String decideAndRewrite(String uri) {
        int from = Fixture.PATH.length() + 1;
        ScopeResolver resolver = fixture.normalizer.resolver();
        AuthorizationRequest r = AuthorizationParams.read(uri, from, uri.length(), true,
                resolver.readsState(), fixture.values);
        Decision d = fixture.normalizer.decideNow(r, resolver);
        return AuthorizationParams.appendScope(uri, from, uri.length(),
                fixture.values.encode(((Decision.AddScope) d).scope()), null);
    }

    /** The decision alone for the unknown client (negative cache hit). */
    @Benchmark
    public Decision chainUnknownClient() {
        return fixture.normalizer.decide(unknown).join();
    }
}
