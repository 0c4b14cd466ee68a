package dev.scopegate.proxy.route;

import dev.scopegate.metrics.OutcomeMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class AddIssTest {

    static final String CB = "https://chatgpt.com/connector_platform_oauth_redirect";

    final AtomicLong nanos = new AtomicLong();
    final AddIss iss = new AddIss(path -> "https://idp.example", new OutcomeMetrics(new SimpleMeterRegistry()),
            nanos::get);

    static HttpResponse redirect(String location) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FOUND);
        r.headers().set(HttpHeaderNames.LOCATION, location);
        return r;
    }

    String amended(String path, String location) {
        HttpResponse r = redirect(location);
        iss.elsewhere(path).onHead(r);
        return r.headers().get(HttpHeaderNames.LOCATION);
    }

    @Test
    void aRedirectUriInUseStaysRememberedHoweverLongAgoItWasFirstNamed() {
        iss.remember(CB);
        nanos.addAndGet(Duration.ofMinutes(29).toNanos());
        iss.remember(CB); // a reconnect names it again
        nanos.addAndGet(Duration.ofMinutes(2).toNanos());
        assertThat(amended("/login/u1", CB + "?code=c&state=s"))
                .isEqualTo(CB + "?code=c&state=s&iss=https%3A%2F%2Fidp.example");
    }

    @Test
    void aRedirectUriNotNamedForLongerThanThePendingTimeIsForgotten() {
        iss.remember(CB);
        nanos.addAndGet(AddIss.PENDING_FOR.plusSeconds(1).toNanos());
        assertThat(amended("/login/u1", CB + "?code=c&state=s")).isEqualTo(CB + "?code=c&state=s");
    }

    @Test
    void atTheAuthorizationEndpointOnlyARedirectToANamedRedirectUriIsAnAuthorizationResponse() {
        iss.remember(CB);
        HttpResponse own = redirect(CB + "?error=access_denied&state=s");
        iss.atAuthorizationEndpoint("/authorize", null).onHead(own);
        assertThat(own.headers().get(HttpHeaderNames.LOCATION)).endsWith("&iss=https%3A%2F%2Fidp.example");
        HttpResponse broker = redirect("https://idp.example/broker?error=login_required");
        iss.atAuthorizationEndpoint("/authorize", null).onHead(broker);
        assertThat(broker.headers().get(HttpHeaderNames.LOCATION)).isEqualTo("https://idp.example/broker?error=login_required");
    }
}
