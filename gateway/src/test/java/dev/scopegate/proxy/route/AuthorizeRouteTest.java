package dev.scopegate.proxy.route;

import dev.scopegate.metrics.MeterNames;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static dev.scopegate.proxy.route.RouteFixture.bytes;
import static dev.scopegate.proxy.route.RouteFixture.form;
import static dev.scopegate.proxy.route.RouteFixture.request;
import static dev.scopegate.proxy.route.RouteFixture.response;
import static dev.scopegate.proxy.route.RouteFixture.text;
import static org.assertj.core.api.Assertions.assertThat;

/** {@link AuthorizeRoute} and {@link ParRoute}, over {@link AuthorizationRewrite}. */
class AuthorizeRouteTest {

    static final String CLIENTS = """
            scope:
              sources: [client, registered]
              clients: {c1: "read offline_access", c2: "read"}
            limits: {max-form-bytes: 2048}
            """;
    static final String PATH = "/oauth/authorize";

    static AuthorizeRoute authorize(RouteFixture f) {
        return new AuthorizeRoute(f.config::get, f.rewrite());
    }

    static ParRoute par(RouteFixture f) {
        return new ParRoute(f.config::get, f.rewrite());
    }

    /** The URI the IdP receives for a GET of {@code query}. */
    static String get(RouteFixture f, String query) throws Exception {
        HttpRequest r = request(HttpMethod.GET, PATH + "?" + query);
        Plan p = authorize(f).plan(r, PATH);
        if (p instanceof Plan.Defer d) {
            p = d.plan().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        assertThat(p).isInstanceOf(Plan.Forward.class);
        return r.uri().substring(PATH.length() + 1);
    }

    /** The body the IdP receives for a form POST of {@code body} through {@code route}. */
    static String post(Route route, String body) {
        Plan.BufferBody plan = (Plan.BufferBody) route.plan(form(HttpMethod.POST, "/x"), "/x");
        assertThat(plan.maxBytes()).isEqualTo(2048);
        ByteBuf b = bytes(body);
        try {
            BodyRewriter.Result result = plan.rewriter().onBody(null, b).toCompletableFuture().join();
            return result instanceof BodyRewriter.Result.Replace replace ? text(replace.body()) : body;
        } finally {
            b.release();
        }
    }

    @Test
    void aGetWithoutScopeGetsTheClientsScope_andThePromptOfTheDecision() throws Exception {
        try (RouteFixture f = new RouteFixture(CLIENTS)) {
            assertThat(get(f, "client_id=c2&state=s")).isEqualTo("client_id=c2&state=s&scope=read");
            assertThat(get(f, "client_id=c1&state=s")).isEqualTo("client_id=c1&state=s&scope=read%20offline_access&prompt=consent");
            assertThat(get(f, "client_id=c1&prompt=login")).isEqualTo("client_id=c1&prompt=login&scope=read%20offline_access");
            assertThat(get(f, "client_id=c1&scope=mine")).isEqualTo("client_id=c1&scope=mine");
            assertThat(f.count(MeterNames.REWRITES, "source", "client")).isEqualTo(3);
        }
    }

    @Test
    void offlineAccessPromptNoneAddsNoPrompt_andAppliesOnReload() throws Exception {
        try (RouteFixture f = new RouteFixture(CLIENTS.replace("scope:\n", "scope:\n  offline-access-prompt: none\n"))) {
            assertThat(get(f, "client_id=c1")).isEqualTo("client_id=c1&scope=read%20offline_access");
            assertThat(post(par(f), "client_id=c1")).isEqualTo("client_id=c1&scope=read%20offline_access");
            f.config.set(RouteFixture.parse(CLIENTS));
            assertThat(get(f, "client_id=c1")).isEqualTo("client_id=c1&scope=read%20offline_access&prompt=consent");
        }
    }

    @Test
    void formPostsToAuthorizeAndParAreRewrittenAlike() {
        try (RouteFixture f = new RouteFixture(CLIENTS)) {
            assertThat(post(authorize(f), "client_id=c1&state=s"))
                    .isEqualTo("client_id=c1&state=s&scope=read%20offline_access&prompt=consent");
            assertThat(post(par(f), "client_id=c1&prompt=none"))
                    .isEqualTo("client_id=c1&prompt=none&scope=read%20offline_access");
            assertThat(post(par(f), "client_id=c2&scope=")).isEqualTo("client_id=c2&scope=read");
        }
    }

    @Test
    void dryRunForwardsUnchanged() throws Exception {
        try (RouteFixture f = new RouteFixture(CLIENTS.replace("scope:\n", "scope:\n  dry-run: true\n"))) {
            assertThat(get(f, "client_id=c1")).isEqualTo("client_id=c1");
            assertThat(post(par(f), "client_id=c1")).isEqualTo("client_id=c1");
        }
    }

    @Test
    void aRegisteredClientsScopeIsLookedUp() throws Exception {
        try (RouteFixture f = new RouteFixture(CLIENTS)) {
            f.registrations.save(RegistrationRoutesTest.reg("c9")).join();
            assertThat(get(f, "client_id=c9")).isEqualTo("client_id=c9&scope=read");
        }
    }

    @Test
    void anUnresolvedRequestIsRejectedWhenConfigured() {
        try (RouteFixture f = new RouteFixture(CLIENTS.replace("scope:\n", "scope:\n  on-unresolved: reject\n"))) {
            Plan p = authorize(f).plan(request(HttpMethod.GET, PATH + "?client_id=nobody"), PATH);
            if (p instanceof Plan.Defer d) {
                p = d.plan().toCompletableFuture().join();
            }
            FullHttpResponse r = ((Plan.Respond) p).response();
            assertThat(r.status().code()).isEqualTo(400);
            r.release();
            Plan.BufferBody form = (Plan.BufferBody) par(f).plan(form(HttpMethod.POST, "/x"), "/x");
            ByteBuf b = bytes("client_id=nobody");
            assertThat(form.rewriter().onBody(null, b).toCompletableFuture().join())
                    .isInstanceOfSatisfying(BodyRewriter.Result.Reply.class, reply -> reply.response().release());
            b.release();
        }
    }

    @Test
    void aRequestWithScopeAndPkceIsWatchedToLearnItsScope() throws Exception {
        try (RouteFixture f = new RouteFixture(CLIENTS)) {
            String q = "client_id=c9&scope=read+write&code_challenge=" + TokenLearningRouteTest.CHALLENGE;
            Plan p = authorize(f).plan(request(HttpMethod.GET, PATH + "?" + q), PATH);
            ResponseTap tap = ((Plan.Forward) p).tap();
            assertThat(tap).isInstanceOf(AuthorizeLearningTap.class);
            assertThat(tap.onHead(response(302, null, "Location", "https://app.example/cb?error=access_denied"))).isZero();
            assertThat(f.pending.confirm("c9", TokenLearningRouteTest.VERIFIER)).isNull();
            tap.onHead(response(302, null, "Location", "https://idp.test/login?x=1"));
            assertThat(f.pending.confirm("c9", TokenLearningRouteTest.VERIFIER)).isEqualTo("read write");
        }
    }

    @Test
    void otherMethodsAreForwarded() {
        try (RouteFixture f = new RouteFixture(CLIENTS)) {
            assertThat(authorize(f).plan(request(HttpMethod.POST, PATH), PATH)).isSameAs(Plan.FORWARD);
            assertThat(authorize(f).plan(form(HttpMethod.PUT, PATH), PATH)).isSameAs(Plan.FORWARD);
            assertThat(par(f).plan(form(HttpMethod.GET, "/par"), "/par")).isSameAs(Plan.FORWARD);
            assertThat(par(f).plan(request(HttpMethod.POST, "/par"), "/par")).isSameAs(Plan.FORWARD);
        }
    }
}
