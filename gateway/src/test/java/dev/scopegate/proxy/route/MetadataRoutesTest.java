package dev.scopegate.proxy.route;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static dev.scopegate.proxy.route.RouteFixture.request;
import static org.assertj.core.api.Assertions.assertThat;

/** {@link MetadataRoute} (RFC 8414 / OIDC discovery) and {@link ResourceMetadataRoute} (RFC 9728). */
class MetadataRoutesTest {

    static final String AS = "/.well-known/oauth-authorization-server";

    static FullHttpResponse respond(Plan p) throws Exception {
        if (p instanceof Plan.Defer d) {
            p = d.plan().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        assertThat(p).isInstanceOf(Plan.Respond.class);
        return ((Plan.Respond) p).response();
    }

    static String body(FullHttpResponse r) {
        try {
            return r.content().toString(StandardCharsets.UTF_8);
        } finally {
            r.release();
        }
    }

    @Test
    void theCachedDocumentIsServed_beforeTheFirstFetchTheRequestWaitsForIt() throws Exception {
        try (RouteFixture f = new RouteFixture("")) {
            MetadataRoute route = new MetadataRoute(f.metadata, null, null);
            Plan first = route.plan(request(HttpMethod.GET, AS), AS);
            assertThat(first).isInstanceOf(Plan.Defer.class);
            FullHttpResponse r = respond(first);
            assertThat(r.status().code()).isEqualTo(200);
            assertThat(r.headers().get("Cache-Control")).isEqualTo("public, max-age=300");
            assertThat(body(r)).contains("\"issuer\"");
            Plan cached = route.plan(request(HttpMethod.GET, AS), AS);
            assertThat(cached).isInstanceOf(Plan.Respond.class);
            assertThat(body(respond(cached))).contains("authorization_endpoint");
        }
    }

    @Test
    void pathsItDoesNotServeAreForwarded() {
        try (RouteFixture f = new RouteFixture("")) {
            String p = "/.well-known/security.txt";
            assertThat(new MetadataRoute(f.metadata, null, null).plan(request(HttpMethod.GET, p), p)).isSameAs(Plan.FORWARD);
        }
    }

    static final String RESOURCES = """
            resources: [{resource: "https://gw.example/mcp", scopes-supported: [read, write]}]
            """;

    @Test
    void aConfiguredResourceIsPublishedNamingTheIssuer() throws Exception {
        try (RouteFixture f = new RouteFixture(RESOURCES).withMetadata()) {
            ResourceMetadataRoute route = new ResourceMetadataRoute(f.config::get, f.metadata, f.resources);
            String p = ResourceMetadataRoute.PREFIX + "/mcp";
            FullHttpResponse r = respond(route.plan(request(HttpMethod.GET, p), p));
            assertThat(r.status().code()).isEqualTo(200);
            assertThat(r.headers().get("Content-Type")).isEqualTo("application/json");
            String json = body(r);
            assertThat(json).contains("https://gw.example/mcp").contains(RouteFixture.IDP).contains("write");

            String other = ResourceMetadataRoute.PREFIX + "/other";
            assertThat(route.plan(request(HttpMethod.GET, other), other)).isSameAs(Plan.FORWARD);
        }
    }

    @Test
    void beforeTheMetadataThePublicBaseUrlIsTheIssuer_withoutEitherTheRequestIsForwarded() throws Exception {
        String p = ResourceMetadataRoute.PREFIX + "/mcp";
        try (RouteFixture f = new RouteFixture(RESOURCES + "public-base-url: https://gw.example\n")) {
            ResourceMetadataRoute route = new ResourceMetadataRoute(f.config::get, f.metadata, f.resources);
            assertThat(body(respond(route.plan(request(HttpMethod.GET, p), p)))).contains("https://gw.example");
        }
        try (RouteFixture f = new RouteFixture(RESOURCES)) {
            ResourceMetadataRoute route = new ResourceMetadataRoute(f.config::get, f.metadata, f.resources);
            assertThat(route.plan(request(HttpMethod.GET, p), p)).isSameAs(Plan.FORWARD);
        }
    }
}
