package dev.scopegate.loadtest.jmh;

import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.ParamCache;
import dev.scopegate.oauth.ParamCodec;
import dev.scopegate.oauth.Params;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * The parameter codec on the seed's reconnect, read inside its request URI as the router reads it:
 * the one-pass split and check, then the rewrite.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-Dlogback.configurationFile=logback-bench.xml"})
@State(Scope.Thread)
public class ParamCodecBenchmark {

    private String uri = Fixture.RECONNECT_URI;
    private final int queryStart = Fixture.PATH.length() + 1;
    private final ParamCache values = new ParamCache(1024);

    /** Split and well-formedness check only, into the parsed view. */
    @Benchmark
    public AuthorizationParams parse() {
        return AuthorizationParams.parse(uri, queryStart, uri.length());
    }

    /**
     * What the router does with a reconnect: read the parameters the decision needs (client_id,
     * scope, redirect_uri, resource …) in one pass, append the scope.
     */
    @Benchmark
    public void parseAndRewrite(Blackhole bh) {
        AuthorizationRequest r = AuthorizationParams.read(uri, queryStart, uri.length(), true, false, values);
        bh.consume(r);
        bh.consume(AuthorizationParams.appendScope(uri, queryStart, uri.length(), values.encode(Fixture.SCOPE), null));
    }

    /** The generic codec ({@link Params}) on the query alone, as the router used it before. */
    @Benchmark
    public void paramsParseAndRewrite(Blackhole bh) {
        Params p = ParamCodec.parse(Fixture.RECONNECT_QUERY);
        bh.consume(p.count(OAuthParams.CLIENT_ID));
        bh.consume(p.first(OAuthParams.CLIENT_ID));
        bh.consume(p.count(OAuthParams.SCOPE));
        bh.consume(p.withScope(Fixture.SCOPE));
    }
}
