package dev.scopegate.proxy.route;

import dev.scopegate.metrics.MeterNames;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static dev.scopegate.proxy.route.RouteFixture.bytes;
import static dev.scopegate.proxy.route.RouteFixture.form;
import static dev.scopegate.proxy.route.RouteFixture.request;
import static dev.scopegate.proxy.route.RouteFixture.response;
import static org.assertj.core.api.Assertions.assertThat;

class TokenLearningRouteTest {

    /** RFC 7636 appendix B. */
    static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    static final String CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    static final String CODE_GRANT = "grant_type=authorization_code&code=x&client_id=c1&code_verifier=" + VERIFIER;

    /** Plans a token request with {@code body}, and lets the IdP answer {@code answer} (200 JSON). */
    static void exchange(TokenLearningRoute route, String body, String answer, String... headers) {
        Plan.BufferBody plan = (Plan.BufferBody) route.plan(form(HttpMethod.POST, "/t", headers), "/t");
        ByteBuf b = bytes(body);
        assertThat(plan.rewriter().onBody(null, b).toCompletableFuture().join()).isSameAs(BodyRewriter.UNCHANGED);
        b.release();
        HttpResponse head = response(200, "application/json");
        if (plan.tap().onHead(head) > 0) {
            ByteBuf a = bytes(answer);
            plan.tap().onBody(head, a).toCompletableFuture().join();
            a.release();
        }
    }

    RouteFixture fixture(String yaml) {
        RouteFixture f = new RouteFixture(yaml);
        f.registrations.save(RegistrationRoutesTest.reg("c1")).join();
        f.registrations.save(RegistrationRoutesTest.reg("basic:client")).join();
        return f;
    }

    static TokenLearningRoute route(RouteFixture f) {
        return new TokenLearningRoute(f.config::get, f.registrations, f.pending, f.metrics, f.clock);
    }

    @Test
    void whatTheClientAskedForAtAuthorizeIsLearnedWhenItsFlowCompletes() {
        try (RouteFixture f = fixture("")) {
            f.pending.remember("c1", CHALLENGE, "read offline_access");
            exchange(route(f), CODE_GRANT, "{\"access_token\":\"t\",\"scope\":\"read\"}");
            assertThat(f.stored.get("c1").learnedScope()).isEqualTo("read offline_access");
            assertThat(f.count(MeterNames.SCOPES_LEARNED, "from", "token")).isEqualTo(1);
        }
    }

    @Test
    void otherwiseTheGrantedScopeIsLearned() {
        try (RouteFixture f = fixture("")) {
            exchange(route(f), CODE_GRANT, "{\"access_token\":\"t\",\"scope\":\"write\"}");
            assertThat(f.stored.get("c1").learnedScope()).isEqualTo("write");
        }
        try (RouteFixture f = fixture("scope: {learn: {token: false}}\n")) {
            exchange(route(f), CODE_GRANT, "{\"access_token\":\"t\",\"scope\":\"write\"}");
            assertThat(f.stored.get("c1").learnedScope()).isNull();
        }
    }

    @Test
    void theClientOfHttpBasicAuthentication() {
        try (RouteFixture f = fixture("")) {
            String basic = "Basic " + Base64.getEncoder().encodeToString("basic%3Aclient:secret".getBytes(StandardCharsets.UTF_8));
            exchange(route(f), "grant_type=refresh_token&refresh_token=r&client_id=c1",
                    "{\"access_token\":\"t\",\"scope\":\"write\"}", "Authorization", basic);
            assertThat(f.stored.get("basic:client").learnedScope()).isEqualTo("write");
            assertThat(f.stored.get("c1").learnedScope()).isNull();
        }
        assertThat(TokenLearningRoute.basicClientId(null)).isNull();
        assertThat(TokenLearningRoute.basicClientId("Bearer x")).isNull();
        assertThat(TokenLearningRoute.basicClientId("basic " + Base64.getEncoder().encodeToString("a:b".getBytes()))).isEqualTo("a");
        assertThat(TokenLearningRoute.basicClientId("Basic " + Base64.getEncoder().encodeToString(":b".getBytes()))).isNull();
        assertThat(TokenLearningRoute.basicClientId("Basic !!!")).isNull();
    }

    @Test
    void withoutAClientOrA200JsonAnswerNothingIsCaptured() {
        try (RouteFixture f = fixture("")) {
            Plan.BufferBody plan = (Plan.BufferBody) route(f).plan(form(HttpMethod.POST, "/t"), "/t");
            ByteBuf b = bytes("grant_type=client_credentials");
            plan.rewriter().onBody(null, b).toCompletableFuture().join();
            b.release();
            assertThat(plan.tap().onHead(response(200, "application/json"))).isZero();

            plan = (Plan.BufferBody) route(f).plan(form(HttpMethod.POST, "/t"), "/t");
            b = bytes(CODE_GRANT);
            plan.rewriter().onBody(null, b).toCompletableFuture().join();
            b.release();
            assertThat(plan.tap().onHead(response(400, "application/json"))).isZero();
            assertThat(plan.tap().onHead(response(200, "text/html"))).isZero();
            assertThat(plan.tap().onHead(response(200, "application/json"))).isPositive();
        }
    }

    @Test
    void forwardedUntouchedWhenNotAFormPostOrLearningIsOff() {
        try (RouteFixture f = fixture("")) {
            assertThat(route(f).plan(request(HttpMethod.POST, "/t"), "/t")).isSameAs(Plan.FORWARD);
            assertThat(route(f).plan(form(HttpMethod.GET, "/t"), "/t")).isSameAs(Plan.FORWARD);
        }
        try (RouteFixture f = fixture("scope: {learn: {token: false, authorize: false}}\n")) {
            assertThat(route(f).plan(form(HttpMethod.POST, "/t"), "/t")).isSameAs(Plan.FORWARD);
        }
    }

}
