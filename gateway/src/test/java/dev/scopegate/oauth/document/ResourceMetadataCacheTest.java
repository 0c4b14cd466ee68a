package dev.scopegate.oauth.document;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResourceMetadataCacheTest {

    private static final String MCP = "https://my-domain/mcp";
    private static final ScopegateConfig.Resource CONFIGURED =
            new ScopegateConfig.Resource(URI.create(MCP), List.of("worker:read", "people:read"));

    private final AtomicLong nanos = new AtomicLong();
    private final FakeFetcher fake = new FakeFetcher();
    private static final JdkHttpFetcher HTTP = new JdkHttpFetcher();
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A real local server, started on first use. */
    private TestServer server() throws Exception {
        if (server == null) {
            server = new TestServer();
        }
        return server;
    }

    // --- URL derivation ---------------------------------------------------------------------

    @Test
    void wellKnownPathGoesBetweenHostAndPath() {
        assertThat(url("https://my-domain/mcp")).isEqualTo("https://my-domain/.well-known/oauth-protected-resource/mcp");
        assertThat(url("https://my-domain/a/b/")).isEqualTo("https://my-domain/.well-known/oauth-protected-resource/a/b/");
        assertThat(url("http://10.0.0.5:8081/mcp?tenant=a%20b"))
                .isEqualTo("http://10.0.0.5:8081/.well-known/oauth-protected-resource/mcp?tenant=a%20b");
    }

    @Test
    void noPathOrJustASlashGivesTheBareWellKnownPath() {
        assertThat(url("https://my-domain")).isEqualTo("https://my-domain/.well-known/oauth-protected-resource");
        assertThat(url("https://my-domain/")).isEqualTo("https://my-domain/.well-known/oauth-protected-resource");
        assertThat(url("https://my-domain/?x=1")).isEqualTo("https://my-domain/.well-known/oauth-protected-resource?x=1");
    }

    @Test
    void resourceIdentifiersThatAreNotHttpUrlsHaveNoMetadataUrl() {
        assertThatThrownBy(() -> ResourceMetadataCache.metadataUrl(URI.create("https://my-domain/mcp#frag")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResourceMetadataCache.metadataUrl(URI.create("urn:example:mcp")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResourceMetadataCache.metadataUrl(URI.create("https://u:p@my-domain/mcp")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // --- configured resources and the allow-list ---------------------------------------------

    @Test
    void configuredResourceIsAnsweredWithoutFetching() throws Exception {
        ResourceMetadataCache cache = new ResourceMetadataCache(List.of(CONFIGURED), Set.of("https://my-domain"), fake, nanos::get);

        assertThat(cache.scopesFor(MCP).get(5, TimeUnit.SECONDS)).containsExactly("worker:read", "people:read");
        assertThat(cache.scopesFor("HTTPS://My-Domain:443/mcp").get(5, TimeUnit.SECONDS))
                .containsExactly("worker:read", "people:read");
        assertThat(cache.cachedOrNull(MCP)).containsExactly("worker:read", "people:read");
        assertThat(fake.calls).isEmpty();
    }

    @Test
    void resourceOnAnOriginOutsideTheAllowListIsNeverFetched() throws Exception {
        String resource = server().origin() + "/mcp";
        server().answer("/.well-known/oauth-protected-resource/mcp", doc(resource, "[\"a\"]", Map.of()));
        ResourceMetadataCache cache =
                new ResourceMetadataCache(List.of(), Set.of("https://my-domain"), HTTP, nanos::get);

        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(cache.scopesFor(resource.replace("127.0.0.1", "localhost")).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(cache.scopesFor("https://169.254.169.254/latest").get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(cache.cachedOrNull(resource)).isEmpty();
        assertThat(server().totalRequests()).isZero();
    }

    @Test
    void theAllowListFollowsRoutesOnReload() throws Exception {
        String resource = server().origin() + "/mcp";
        server().answer("/.well-known/oauth-protected-resource/mcp", doc(resource, "[\"a\"]", Map.of()));
        ConfigLoader loader = new ConfigLoader(name -> null);
        ScopegateConfig before = loader.parse("upstream: {url: \"https://idp.internal\"}", "before");
        ScopegateConfig after = loader.parse("upstream: {url: \"https://idp.internal\"}\nroutes: [{prefix: /mcp, url: \""
                + server().origin() + "\"}]", "after");
        AtomicReference<Set<String>> origins = new AtomicReference<>(ResourceMetadataCache.fetchableOrigins(before));
        ResourceMetadataCache cache = new ResourceMetadataCache(List.of(), origins::get, HTTP, nanos::get);

        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(server().totalRequests()).isZero();

        origins.set(ResourceMetadataCache.fetchableOrigins(after));          // a reload that adds the route
        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).containsExactly("a");

        origins.set(ResourceMetadataCache.fetchableOrigins(before));         // and one that removes it
        assertThat(cache.cachedOrNull(resource)).isEmpty();
    }

    @Test
    void fetchableOriginsAreTheUpstreamThePublicBaseUrlAndEveryRoute() throws Exception {
        ScopegateConfig c = new ConfigLoader(name -> null).parse("upstream: {url: \"http://10.0.0.5:8081/idp\"}\n"
                + "public-base-url: \"https://My-Domain:443/base\"\n"
                + "routes: [{prefix: /mcp, url: \"https://mcp.internal:8443/x\"}]\n", "t");
        assertThat(ResourceMetadataCache.fetchableOrigins(c))
                .containsExactlyInAnyOrder("http://10.0.0.5:8081", "https://my-domain", "https://mcp.internal:8443");
    }

    @Test
    void garbageResourceValuesYieldEmptyWithoutFetching() throws Exception {
        ResourceMetadataCache cache = new ResourceMetadataCache(List.of(), Set.of("https://my-domain"), fake, nanos::get);

        for (String bad : new String[] {null, "", "mcp", "urn:x:y", "https://my-domain/mcp#x", "ftp://my-domain/x",
                "https://evil@my-domain/mcp", "https://my-domain/a b"}) {
            assertThat(cache.scopesFor(bad).get(5, TimeUnit.SECONDS)).as(String.valueOf(bad)).isEmpty();
        }
        assertThat(fake.calls).isEmpty();
    }

    // --- fetching through a real server ------------------------------------------------------

    @Test
    void allowedResourceIsFetchedOnceAndThenServedFromCache() throws Exception {
        String resource = server().origin() + "/mcp";
        server().answer("/.well-known/oauth-protected-resource/mcp", doc(resource, "[\"worker:read\",\"time-off:read\"]", Map.of()));
        ResourceMetadataCache cache = realCache();

        assertThat(cache.cachedOrNull(resource)).isNull();
        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).containsExactly("worker:read", "time-off:read");
        awaitLoads(cache, 1);
        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).containsExactly("worker:read", "time-off:read");
        assertThat(cache.cachedOrNull(resource)).containsExactly("worker:read", "time-off:read");
        assertThat(server().requests("/.well-known/oauth-protected-resource/mcp")).isEqualTo(1);
    }

    @Test
    void documentNamingAnotherResourceIsRejectedAndRemembered() throws Exception {
        String resource = server().origin() + "/mcp";
        server().answer("/.well-known/oauth-protected-resource/mcp", doc(server().origin() + "/other", "[\"a\"]", Map.of()));
        ResourceMetadataCache cache = realCache();

        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).isEmpty();
        awaitLoads(cache, 1);
        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(server().requests("/.well-known/oauth-protected-resource/mcp")).isEqualTo(1);
    }

    @Test
    void notFoundIsCachedAsNegative() throws Exception {
        String resource = server().origin() + "/missing";
        ResourceMetadataCache cache = realCache();

        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).isEmpty();
        awaitLoads(cache, 1);
        assertThat(cache.cachedOrNull(resource)).isEmpty();
        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(server().requests("/.well-known/oauth-protected-resource/missing")).isEqualTo(1);
    }

    @Test
    void noStoreIsNotCached() throws Exception {
        String resource = server().origin() + "/mcp";
        server().answer("/.well-known/oauth-protected-resource/mcp", doc(resource, "[\"a\"]", Map.of("Cache-Control", "no-store")));
        ResourceMetadataCache cache = realCache();

        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).containsExactly("a");
        awaitLoads(cache, 1);
        assertThat(cache.cachedOrNull(resource)).isNull();
        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).containsExactly("a");
        assertThat(server().requests("/.well-known/oauth-protected-resource/mcp")).isEqualTo(2);
    }

    @Test
    void rootResourceUsesTheBareWellKnownPath() throws Exception {
        String resource = server().origin() + "/";
        server().answer("/.well-known/oauth-protected-resource", doc(resource, "[\"root\"]", Map.of()));
        ResourceMetadataCache cache = realCache();

        assertThat(cache.scopesFor(resource).get(5, TimeUnit.SECONDS)).containsExactly("root");
    }

    // --- caching logic with a fake fetcher and ticker ----------------------------------------

    @Test
    void maxAgeIsHonoured() throws Exception {
        ResourceMetadataCache cache = fakeCache();
        fake.answerJson(200, json(MCP2, "[\"a\"]"), Map.of("cache-control", List.of("public, max-age=120")));

        assertThat(cache.scopesFor(MCP2).get()).containsExactly("a");
        advance(Duration.ofSeconds(119));
        assertThat(cache.scopesFor(MCP2).get()).containsExactly("a");
        assertThat(fake.calls).hasSize(1);
        advance(Duration.ofSeconds(2));
        assertThat(cache.cachedOrNull(MCP2)).isNull();
        assertThat(cache.scopesFor(MCP2).get()).containsExactly("a");
        assertThat(fake.calls).hasSize(2);
    }

    @Test
    void maxAgeIsClampedToOneMinuteAndOneHour() throws Exception {
        ResourceMetadataCache cache = fakeCache();
        fake.answerJson(200, json(MCP2, "[\"a\"]"), Map.of("cache-control", List.of("max-age=5")));
        cache.scopesFor(MCP2).get();
        advance(Duration.ofSeconds(59));
        cache.scopesFor(MCP2).get();
        assertThat(fake.calls).hasSize(1);
        advance(Duration.ofSeconds(2));
        fake.answerJson(200, json(MCP2, "[\"a\"]"), Map.of("cache-control", List.of("max-age=999999")));
        cache.scopesFor(MCP2).get();
        assertThat(fake.calls).hasSize(2);
        advance(Duration.ofMinutes(59));
        cache.scopesFor(MCP2).get();
        assertThat(fake.calls).hasSize(2);
        advance(Duration.ofMinutes(2));
        cache.scopesFor(MCP2).get();
        assertThat(fake.calls).hasSize(3);
    }

    @Test
    void withoutCacheHeadersADocumentLivesFiveMinutes() throws Exception {
        ResourceMetadataCache cache = fakeCache();
        fake.answerJson(200, json(MCP2, "[\"a\"]"), Map.of());
        cache.scopesFor(MCP2).get();
        advance(Duration.ofMinutes(4).plusSeconds(59));
        cache.scopesFor(MCP2).get();
        assertThat(fake.calls).hasSize(1);
        advance(Duration.ofSeconds(2));
        cache.scopesFor(MCP2).get();
        assertThat(fake.calls).hasSize(2);
    }

    @Test
    void failuresAreRememberedForOneMinute() throws Exception {
        ResourceMetadataCache cache = fakeCache();
        fake.answer(uri -> CompletableFuture.failedFuture(new java.io.IOException("connection refused")));
        assertThat(cache.scopesFor(MCP2).get()).isEmpty();
        advance(Duration.ofSeconds(59));
        assertThat(cache.scopesFor(MCP2).get()).isEmpty();
        assertThat(fake.calls).hasSize(1);

        advance(Duration.ofSeconds(2));
        fake.answerJson(200, "{not json", Map.of("cache-control", List.of("max-age=3600")));
        assertThat(cache.scopesFor(MCP2).get()).isEmpty();
        assertThat(fake.calls).hasSize(2);
        advance(Duration.ofSeconds(61));
        fake.answerJson(503, json(MCP2, "[\"a\"]"), Map.of());
        assertThat(cache.scopesFor(MCP2).get()).isEmpty();
        assertThat(fake.calls).hasSize(3);
        advance(Duration.ofSeconds(61));
        fake.answerJson(200, json(MCP2, "[\"a\"]"), Map.of());
        assertThat(cache.scopesFor(MCP2).get()).containsExactly("a");
    }

    @Test
    void invalidScopesSupportedIsNegativeAndAbsentIsAnEmptyList() throws Exception {
        ResourceMetadataCache cache = fakeCache();
        fake.answerJson(200, json(MCP2, "\"a b\""), Map.of());
        assertThat(cache.scopesFor(MCP2).get()).isEmpty();
        fake.answerJson(200, json(MCP2 + "/x", "[\"a\", 1]"), Map.of());
        assertThat(cache.scopesFor(MCP2 + "/x").get()).isEmpty();
        fake.answerJson(200, "{\"resource\":\"" + MCP2 + "/y\"}", Map.of());
        assertThat(cache.scopesFor(MCP2 + "/y").get()).isEmpty();
        fake.answerJson(200, json(MCP2 + "/z", "[\"a\",\"a\",\"b\"]"), Map.of());
        assertThat(cache.scopesFor(MCP2 + "/z").get()).containsExactly("a", "b");
    }

    @Test
    void concurrentRequestsShareOneFetch() throws Exception {
        ResourceMetadataCache cache = fakeCache();
        CompletableFuture<List<String>> first = cache.scopesFor(MCP2);
        CompletableFuture<List<String>> second = cache.scopesFor(MCP2);
        assertThat(cache.cachedOrNull(MCP2)).isNull();
        assertThat(fake.calls).hasSize(1);
        assertThat(fake.calls.get(0).uri()).hasToString("https://api.my-domain/.well-known/oauth-protected-resource/mcp");

        fake.pending.get(fake.calls.get(0).uri()).complete(FakeFetcher.response(200, json(MCP2, "[\"s\"]"), Map.of()));
        assertThat(first.get()).containsExactly("s");
        assertThat(second.get()).containsExactly("s");
    }

    @Test
    void fetcherThatThrowsIsAFailureNotAnException() throws Exception {
        ResourceMetadataCache cache = fakeCache();
        fake.answer(uri -> {
            throw new IllegalStateException("closed");
        });
        assertThat(cache.scopesFor(MCP2).get()).isEmpty();
    }

    // --- the document scopegate publishes ----------------------------------------------------

    @Test
    void publishesConfiguredResourcesAtTheirWellKnownPath() throws Exception {
        ScopegateConfig.Resource root = new ScopegateConfig.Resource(URI.create("https://my-domain"), List.of("r"));
        ResourceMetadataCache cache = new ResourceMetadataCache(List.of(CONFIGURED, root), Set.of(), fake, nanos::get);

        JsonNode doc = new ObjectMapper().readTree(
                cache.publishedDocument("/.well-known/oauth-protected-resource/mcp", "https://my-domain").orElseThrow());
        assertThat(doc.get("resource").textValue()).isEqualTo(MCP);
        assertThat(doc.get("authorization_servers").get(0).textValue()).isEqualTo("https://my-domain");
        assertThat(doc.get("scopes_supported")).hasSize(2);
        assertThat(doc.get("scopes_supported").get(0).textValue()).isEqualTo("worker:read");

        JsonNode rootDoc = new ObjectMapper().readTree(
                cache.publishedDocument("/.well-known/oauth-protected-resource", "https://my-domain").orElseThrow());
        assertThat(rootDoc.get("resource").textValue()).isEqualTo("https://my-domain");

        assertThat(cache.publishedDocument("/.well-known/oauth-protected-resource/other", "https://my-domain")).isEmpty();
        assertThat(cache.publishedDocument("/.well-known/oauth-protected-resourcex/mcp", "https://my-domain")).isEmpty();
        assertThat(cache.publishedDocument("/mcp", "https://my-domain")).isEmpty();
    }

    @Test
    void publishingPrefersTheResourceOnTheAuthorizationServersOrigin() throws Exception {
        ScopegateConfig.Resource other = new ScopegateConfig.Resource(URI.create("https://api.example/mcp"), List.of("x"));
        ResourceMetadataCache cache = new ResourceMetadataCache(List.of(other, CONFIGURED), Set.of(), fake, nanos::get);

        JsonNode doc = new ObjectMapper().readTree(
                cache.publishedDocument("/.well-known/oauth-protected-resource/mcp", "https://my-domain").orElseThrow());
        assertThat(doc.get("resource").textValue()).isEqualTo(MCP);
    }

    // --- helpers -----------------------------------------------------------------------------

    private static final String MCP2 = "https://api.my-domain/mcp";

    private ResourceMetadataCache fakeCache() {
        return new ResourceMetadataCache(List.of(CONFIGURED), Set.of("https://api.my-domain"), fake, nanos::get);
    }

    private ResourceMetadataCache realCache() throws Exception {
        return new ResourceMetadataCache(List.of(), Set.of(server().origin()), HTTP, nanos::get);
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private static String url(String resource) {
        return ResourceMetadataCache.metadataUrl(URI.create(resource)).toString();
    }

    private static String json(String resource, String scopes) {
        return "{\"resource\":\"" + resource + "\",\"scopes_supported\":" + scopes + "}";
    }

    private static TestServer.Canned doc(String resource, String scopes, Map<String, String> headers) {
        return TestServer.Canned.json(json(resource, scopes), headers);
    }

    /**
     * Waits until the cache has booked {@code n} completed loads: the caller's future may complete
     * a moment before the cache records the entry's expiry on the fetcher's thread.
     */
    static void awaitLoads(ResourceMetadataCache cache, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (cache.stats().loadCount() < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(cache.stats().loadCount()).isGreaterThanOrEqualTo(n);
    }
}
