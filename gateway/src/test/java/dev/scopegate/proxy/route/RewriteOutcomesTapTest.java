package dev.scopegate.proxy.route;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.metrics.OutcomeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.scope.ScopeDemotions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The authorization tap reads the request's {@code state} from its parameters only for an error redirect. */
class RewriteOutcomesTapTest {

    private static final String CB = "https://client.example/cb";

    private final ScopeDemotions demotions = new ScopeDemotions(Ticker.systemTicker(), Clock.systemUTC());
    private final List<String> audit = new ArrayList<>();
    private final RewriteOutcomes outcomes = new RewriteOutcomes(new OutcomeMetrics(new SimpleMeterRegistry()),
            demotions, new AuditLog(false, (log, line) -> audit.add(line)));

    private void answer(String params, int from, String location) {
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FOUND);
        head.headers().set(HttpHeaderNames.LOCATION, location);
        assertThat(outcomes.tap(RouteKind.AUTHORIZE, "c1", Source.REGISTERED, "registered", "other", "a b", CB,
                params, from).onHead(head)).isZero();
    }

    @Test
    void anotherRequestsStateDoesNotDemote() {
        answer("/authorize?client_id=c1&state=s1", 11, CB + "?error=invalid_scope&state=s2");
        assertThat(demotions.isDemoted("c1", Source.REGISTERED, "a b")).isFalse();
        assertThat(audit).isEmpty();
    }

    @Test
    void ownStateFromTheParametersDemotes() {
        answer("/authorize?client_id=c1&state=s%31", 11, CB + "?error=invalid_scope&state=s1");
        assertThat(demotions.isDemoted("c1", Source.REGISTERED, "a b")).isTrue();
    }

    @Test
    void theParametersStartAtFrom() {
        // "state=s2" before from is not the request's: it has no state, so any state matches.
        answer("state=s2&client_id=c1", 9, CB + "?error=invalid_scope&state=s1");
        assertThat(demotions.isDemoted("c1", Source.REGISTERED, "a b")).isTrue();
    }

    @Test
    void aCodeIsAccepted() {
        answer("client_id=c1&state=s1", 0, CB + "?code=x&state=s1");
        assertThat(demotions.isDemoted("c1", Source.REGISTERED, "a b")).isFalse();
    }
}
