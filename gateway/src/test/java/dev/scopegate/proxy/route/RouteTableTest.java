package dev.scopegate.proxy.route;

import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static dev.scopegate.proxy.route.RouteFixture.request;
import static org.assertj.core.api.Assertions.assertThat;

class RouteTableTest {

    static final String ENDPOINTS = """
            endpoints: {authorization: /a/authorize, par: /a/par, registration: /a/register, token: /a/token}
            """;

    @Test
    void classifiesByTheConfiguredEndpoints() {
        try (RouteFixture f = new RouteFixture(ENDPOINTS)) {
            RouteTable t = f.table();
            assertThat(t.classify(HttpMethod.GET, "/a/authorize")).isEqualTo(RouteKind.AUTHORIZE);
            assertThat(t.classify(HttpMethod.POST, "/a/par")).isEqualTo(RouteKind.PAR);
            assertThat(t.classify(HttpMethod.POST, "/a/token")).isEqualTo(RouteKind.TOKEN);
            assertThat(t.classify(HttpMethod.POST, "/a/register")).isEqualTo(RouteKind.REGISTRATION);
            assertThat(t.classify(HttpMethod.GET, "/a/register/c1")).isEqualTo(RouteKind.REGISTRATION_MANAGEMENT);
            assertThat(t.classify(HttpMethod.GET, "/a/register/")).isEqualTo(RouteKind.PASS_THROUGH);
            assertThat(t.classify(HttpMethod.GET, "/a/registered")).isEqualTo(RouteKind.PASS_THROUGH);
            assertThat(t.classify(HttpMethod.GET, "/a/authorize/x")).isEqualTo(RouteKind.PASS_THROUGH);
            assertThat(t.classify(HttpMethod.GET, "/other")).isEqualTo(RouteKind.PASS_THROUGH);
        }
    }

    @Test
    void wellKnownIsMetadataOnlyForReads() {
        try (RouteFixture f = new RouteFixture(ENDPOINTS)) {
            RouteTable t = f.table();
            assertThat(t.classify(HttpMethod.GET, "/.well-known/oauth-authorization-server")).isEqualTo(RouteKind.METADATA);
            assertThat(t.classify(HttpMethod.HEAD, "/.well-known/x")).isEqualTo(RouteKind.METADATA);
            assertThat(t.classify(HttpMethod.POST, "/.well-known/x")).isEqualTo(RouteKind.PASS_THROUGH);
            assertThat(t.classify(HttpMethod.GET, "/tenant/.well-known/openid-configuration")).isEqualTo(RouteKind.METADATA);
            assertThat(t.classify(HttpMethod.HEAD, "/tenant/.well-known/openid-configuration")).isEqualTo(RouteKind.PASS_THROUGH);
        }
    }

    @Test
    void theEndpointsOfTheMetadataOnceFetched_andTheWaitBeforeThem() throws Exception {
        try (RouteFixture f = new RouteFixture("")) {
            RouteTable t = f.table();
            assertThat(t.classify(HttpMethod.GET, "/oauth/authorize")).isEqualTo(RouteKind.PASS_THROUGH);
            var pending = t.endpointsPending();
            assertThat(pending).isNotNull();
            assertThat(pending.toCompletableFuture().get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(t.endpointsPending()).isNull();
            assertThat(t.classify(HttpMethod.GET, "/oauth/authorize")).isEqualTo(RouteKind.AUTHORIZE);
            assertThat(t.classify(HttpMethod.POST, "/oauth/token")).isEqualTo(RouteKind.TOKEN);
            assertThat(t.classify(HttpMethod.GET, "/oauth/register/c1")).isEqualTo(RouteKind.REGISTRATION_MANAGEMENT);
        }
    }

    @Test
    void endpointsAllConfiguredNeedNoWait() {
        try (RouteFixture f = new RouteFixture(ENDPOINTS)) {
            assertThat(f.table().endpointsPending()).isNull();
        }
        try (RouteFixture f = new RouteFixture("endpoints: {authorization: /a/authorize}\n")) {
            assertThat(f.table().endpointsPending()).isNotNull();
        }
    }

    @Test
    void aReloadOfEndpointsAppliesAtOnce() {
        try (RouteFixture f = new RouteFixture(ENDPOINTS)) {
            RouteTable t = f.table();
            f.config.set(RouteFixture.parse(ENDPOINTS.replace("/a/authorize", "/b/authorize")));
            assertThat(t.classify(HttpMethod.GET, "/b/authorize")).isEqualTo(RouteKind.AUTHORIZE);
            assertThat(t.classify(HttpMethod.GET, "/a/authorize")).isEqualTo(RouteKind.PASS_THROUGH);
        }
    }

    @Test
    void plansGoToTheirRoute() {
        try (RouteFixture f = new RouteFixture(ENDPOINTS + """
                public-base-url: https://gw.example
                resources: [{resource: "https://gw.example/mcp", scopes-supported: [read]}]
                """)) {
            RouteTable t = f.table();
            assertThat(t.plan(request(HttpMethod.GET, "/x"), "/x", RouteKind.PASS_THROUGH)).isSameAs(Plan.FORWARD);
            assertThat(t.plan(request(HttpMethod.GET, "/x"), "/x", RouteKind.EXTRA_ROUTE)).isSameAs(Plan.FORWARD);
            String prm = "/.well-known/oauth-protected-resource/mcp";
            assertThat(t.plan(request(HttpMethod.GET, prm), prm, RouteKind.METADATA)).isInstanceOf(Plan.Respond.class);
            assertThat(t.plan(RouteFixture.form(HttpMethod.POST, "/a/par"), "/a/par", RouteKind.PAR))
                    .isInstanceOf(Plan.BufferBody.class);
            assertThat(t.plan(request(HttpMethod.POST, "/a/register"), "/a/register", RouteKind.REGISTRATION))
                    .isInstanceOf(Plan.BufferBody.class);
            assertThat(t.plan(request(HttpMethod.DELETE, "/a/register/c1"), "/a/register/c1",
                    RouteKind.REGISTRATION_MANAGEMENT)).isInstanceOf(Plan.Forward.class);
        }
    }
}
