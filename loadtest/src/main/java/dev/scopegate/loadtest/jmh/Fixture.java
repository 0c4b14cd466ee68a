package dev.scopegate.loadtest.jmh;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ConfigException;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.loadtest.IdpSimulator;
import dev.scopegate.loadtest.MemoryStore;
import dev.scopegate.logging.Lines;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.HttpFetcher;
import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.ParamCache;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.ClientIdMetadataDocuments;
import dev.scopegate.oauth.document.Resolver;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.proxy.route.RewriteFeedback;
import dev.scopegate.proxy.route.RouteTable;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.store.RegistrationRepository;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's decision path wired as {@code Gateway} wires it (same classes, same default
 * config plus {@code scope.default}), with an in-memory store and a metadata fetcher that answers
 * at once, so benchmarks measure computation only. One registered client (the seed's) is cached.
 * Not thread-safe to build; the parts are as thread-safe as in the gateway.
 */
public final class Fixture implements AutoCloseable {

    static final String CLIENT_ID = "811703c8-c50a-4a49-a119-0035430610cd";
    static final String UNKNOWN_CLIENT_ID = "5c0ff7a1-0000-4000-8000-00000000beef";
    static final String SCOPE = "worker:read time-off:read time-off:write contracts:read people:read";
    static final String DEFAULT_SCOPE = "worker:read";
    static final String PATH = "/oauth/authorize";
    /** The seed's reconnect (scenario 2): no scope. */
    static final String RECONNECT_QUERY = "response_type=code&client_id=" + CLIENT_ID
            + "&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect"
            + "&state=oauth_s_691b57560b648191a5a85lt8e30e0894"
            + "&code_challenge=usJfT28XGmDtSalaQQgcvouUG95K5jDvwNiL21j8u5o&code_challenge_method=S256"
            + "&resource=https%3A%2F%2Fmy-domain%2Fmcp";
    static final String RECONNECT_QUERY_WITHOUT_RESOURCE =
            RECONNECT_QUERY.substring(0, RECONNECT_QUERY.indexOf("&resource="));
    static final String UNKNOWN_QUERY = RECONNECT_QUERY.replace(CLIENT_ID, UNKNOWN_CLIENT_ID);
    /** The seed's first connect (scenario 1): scope present, left alone. */
    static final String CONNECT_QUERY = RECONNECT_QUERY
            + "&scope=worker%3Aread+time-off%3Aread+time-off%3Awrite+contracts%3Aread+people%3Aread";
    /** The request URI of the reconnect, as the frontend hands it to the router. */
    static final String RECONNECT_URI = PATH + "?" + RECONNECT_QUERY;

    private static final String UPSTREAM = "http://127.0.0.1:8081";
    private static final byte[] METADATA = ("{\"issuer\":\"" + UPSTREAM + "\",\"authorization_endpoint\":\"" + UPSTREAM
            + "/oauth/authorize\",\"token_endpoint\":\"" + UPSTREAM + "/oauth/token\",\"registration_endpoint\":\""
            + UPSTREAM + "/oauth/register\",\"scopes_supported\":" + IdpSimulator.SCOPES_SUPPORTED
            + ",\"response_types_supported\":[\"code\"]}").getBytes(StandardCharsets.UTF_8);

    final ScopegateConfig config;
    final MemoryStore store = new MemoryStore(true);
    final RegistrationRepository registrations;
    final ScopeNormalizer normalizer;
    final MetadataService metadata;
    final RouteTable router;
    /** Repeated values and encoded scopes, as the router keeps them. */
    final ParamCache values = new ParamCache(1024);
    private final ScheduledExecutorService scheduler;

    Fixture() {
        try {
            config = new ConfigLoader(name -> null).parse(
                    "upstream: {url: \"" + UPSTREAM + "\"}\nscope: {default: \"" + DEFAULT_SCOPE + "\"}\n", "benchmark");
        } catch (ConfigException e) {
            throw new IllegalStateException(e.errors().toString(), e);
        }
        Clock clock = Clock.systemUTC();
        // Caffeine maintenance on the caller: deterministic, and no thread hand-off to measure.
        registrations = new RegistrationRepository(store, config.cache().registrations().maxSize(),
                config.cache().registrations().expireAfterAccess(), Ticker.systemTicker(), Runnable::run, clock);
        HttpFetcher fetcher = (uri, headers, maxBytes, timeout) -> CompletableFuture.completedFuture(
                uri.getPath().contains("oauth-authorization-server")
                        ? new HttpFetcher.Response(200, Map.of("content-type", List.of("application/json")), METADATA)
                        : new HttpFetcher.Response(404, Map.of(), new byte[0]));
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fixture-scheduler");
            t.setDaemon(true);
            return t;
        });
        URI upstream = config.upstream().url();
        metadata = new MetadataService(fetcher, upstream, null, "", config.metadata().refresh(), scheduler, clock,
                config.metadata().augment());
        metadata.start();
        metadata.current().orTimeout(10, TimeUnit.SECONDS).join();
        ResourceMetadataCache resources = new ResourceMetadataCache(config.resources(),
                Set.of(Origin.of(upstream).toString()), fetcher, System::nanoTime);
        ClientIdMetadataDocuments documents = new ClientIdMetadataDocuments(config.scope().document(), fetcher,
                Resolver.system(), Runnable::run, System::nanoTime);
        ScopeResolver resolver = new ScopeResolver(config.scope());
        normalizer = new ScopeNormalizer(() -> resolver, registrations, metadata::cachedOrNull, resources, documents);
        router = new RouteTable(() -> config, metadata, null, resources, normalizer, registrations,
                new ScopeMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)), new AuditLog(false, Lines::info), clock,
                new PendingScopes(100_000, java.time.Duration.ofMinutes(10), com.github.benmanes.caffeine.cache.Ticker.systemTicker()),
                RewriteFeedback.detached());
        Instant now = Instant.parse("2025-11-18T10:00:00Z");
        registrations.save(new Registration(CLIENT_ID, SCOPE,
                List.of("https://chatgpt.com/connector_platform_oauth_redirect"),
                List.of("authorization_code", "refresh_token"), "ChatGPT",
                UPSTREAM + "/oauth/register/" + CLIENT_ID, null, now, now)).join();
    }

    /** What {@code RouteTable} extracts from a query (state included, as with {@code on-unresolved: reject}). */
    static AuthorizationRequest toRequest(String query) {
        return AuthorizationParams.parse(query).toRequest(true, true, null);
    }

    /**
     * Heap bytes of the one object the rewrite must allocate: the new request URI of the seed's
     * reconnect with the registered scope (a Latin-1 {@code String} with compressed oops: 24-byte
     * object plus a byte array of 16 + length, rounded up to 8).
     */
    public static long rewrittenUriBytes() {
        int length = (PATH + "?" + RECONNECT_QUERY + "&scope=" + SCOPE.replace(":", "%3A").replace(" ", "%20")).length();
        return 24 + ((16 + length + 7) / 8) * 8;
    }

    public static void main(String[] args) {
        System.out.println(rewrittenUriBytes());
    }

    @Override
    public void close() {
        metadata.close();
        scheduler.shutdownNow();
    }
}
