package dev.scopegate.loadtest.jmh;

import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.scope.RewriteOutcome;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Reading the IdP's answer to a rewritten reconnect (the rewrite-outcome tap, issue 16): a 302
 * back to the client with a {@code code}, as the load test's simulator answers.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-Dlogback.configurationFile=logback-bench.xml"})
@State(Scope.Thread)
public class OutcomeBenchmark {

    private static final String REDIRECT = "https://chatgpt.com/connector_platform_oauth_redirect";
    private String uri = Fixture.RECONNECT_URI;
    private final int queryStart = Fixture.PATH.length() + 1;
    private String location = REDIRECT + "?code=sim-code-1d199&state="
            + AuthorizationParams.first(Fixture.RECONNECT_URI, Fixture.PATH.length() + 1,
                    Fixture.RECONNECT_URI.length(), OAuthParams.STATE);

    /** The request's {@code state} read when the tap is made, then the answer classified. */
    @Benchmark
    public RewriteOutcome stateThenOutcome() {
        String state = AuthorizationParams.first(uri, queryStart, uri.length(), OAuthParams.STATE);
        return RewriteOutcome.ofAuthorization(302, location, REDIRECT, state);
    }

    /** What the tap does: the {@code state} is read only for an error redirect. */
    @Benchmark
    public RewriteOutcome outcomeLazyState() {
        return RewriteOutcome.isErrorRedirect(302, location)
                ? RewriteOutcome.ofAuthorization(302, location, REDIRECT,
                        AuthorizationParams.first(uri, queryStart, uri.length(), OAuthParams.STATE))
                : RewriteOutcome.ACCEPTED;
    }
}
