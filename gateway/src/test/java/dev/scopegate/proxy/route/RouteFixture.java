package dev.scopegate.proxy.route;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ConfigException;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.HttpFetcher;
import dev.scopegate.oauth.ParamCache;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.ClientIdMetadataDocuments;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.scope.ClientFamilies;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.store.RegistrationRepository;
import dev.scopegate.store.RegistrationStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The collaborators of the routes, in memory: a config parsed from YAML (swappable, as a reload
 * does), a map-backed registration store, real metrics, and an IdP whose metadata is
 * {@link #METADATA} (never started unless a test asks).
 */
final class RouteFixture implements AutoCloseable {

    static final String IDP = "http://idp.test";
    static final byte[] METADATA = ("{\"issuer\":\"" + IDP + "\",\"authorization_endpoint\":\"" + IDP
            + "/oauth/authorize\",\"token_endpoint\":\"" + IDP + "/oauth/token\",\"registration_endpoint\":\""
            + IDP + "/oauth/register\",\"scopes_supported\":[\"read\",\"write\",\"offline_access\"],"
            + "\"response_types_supported\":[\"code\"]}").getBytes(StandardCharsets.UTF_8);

    final AtomicReference<ScopegateConfig> config = new AtomicReference<>();
    final Map<String, Registration> stored = new ConcurrentHashMap<>();
    final RegistrationRepository registrations;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final ScopeMetrics metrics = new ScopeMetrics(registry);
    final AuditLog audit = new AuditLog();
    final Clock clock = Clock.fixed(Instant.parse("2025-11-18T10:00:00Z"), ZoneOffset.UTC);
    final PendingScopes pending = new PendingScopes(1000, Duration.ofMinutes(10), Ticker.systemTicker());
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    final MetadataService metadata;
    final ResourceMetadataCache resources;
    final ScopeNormalizer normalizer;

    RouteFixture(String yaml) {
        config.set(parse(yaml));
        registrations = new RegistrationRepository(new MapStore(stored), 100, Duration.ofMinutes(10),
                Ticker.systemTicker(), Runnable::run, clock);
        HttpFetcher fetcher = (uri, headers, maxBytes, timeout) -> CompletableFuture.completedFuture(
                uri.getPath().contains("oauth-authorization-server")
                        ? new HttpFetcher.Response(200, Map.of("content-type", List.of("application/json")), METADATA)
                        : new HttpFetcher.Response(404, Map.of(), new byte[0]));
        ScopegateConfig c = config.get();
        metadata = new MetadataService(fetcher, URI.create(IDP), c.publicBaseUrl(), "", c.metadata().refresh(),
                scheduler, clock, c.metadata().augment());
        resources = new ResourceMetadataCache(c.resources(), Set.of(IDP), fetcher, System::nanoTime);
        ClientIdMetadataDocuments documents = new ClientIdMetadataDocuments(c.scope().document(), fetcher,
                host -> new InetAddress[] {InetAddress.getLoopbackAddress()}, Runnable::run, System::nanoTime);
        // a resolver per config, as the composition root derives it, so that a swap is a reload
        AtomicReference<Object[]> resolver = new AtomicReference<>(new Object[2]);
        normalizer = new ScopeNormalizer(() -> {
            ScopegateConfig now = config.get();
            Object[] r = resolver.get();
            if (r[0] != now) {
                r = new Object[] {now, new ScopeResolver(now.scope())};
                resolver.set(r);
            }
            return (ScopeResolver) r[1];
        }, registrations, metadata::cachedOrNull, resources, documents);
    }

    static ScopegateConfig parse(String yaml) {
        try {
            return new ConfigLoader(name -> null).parse("upstream: {url: \"" + IDP + "\"}\n" + yaml, "test");
        } catch (ConfigException e) {
            throw new IllegalStateException(e.errors().toString(), e);
        }
    }

    /** Fetches the IdP's metadata now (the classification then knows its endpoints). */
    RouteFixture withMetadata() {
        metadata.start();
        metadata.current().join();
        return this;
    }

    RouteTable table() {
        return new RouteTable(config::get, metadata, null, resources, normalizer, registrations, metrics, audit, clock,
                pending, RewriteFeedback.detached());
    }

    AuthorizationRewrite rewrite() {
        return new AuthorizationRewrite(config::get, normalizer,
                () -> new ClientFamilies(config.get().scope().families()), metrics, audit, pending,
                new ParamCache(64), target -> null, RewriteFeedback.detached());
    }

    double count(String meter, String... tags) {
        var c = registry.find(meter).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    static HttpRequest request(HttpMethod method, String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    static HttpRequest form(HttpMethod method, String uri, String... headers) {
        HttpRequest r = request(method, uri, headers);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-www-form-urlencoded");
        return r;
    }

    static HttpResponse response(int status, /* nullable */ String contentType, String... headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        if (contentType != null) {
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        metadata.close();
        scheduler.shutdownNow();
    }

    /** A registration store in a map. */
    private record MapStore(Map<String, Registration> map) implements RegistrationStore {
        @Override
        public CompletableFuture<Optional<Registration>> get(String clientId) {
            return CompletableFuture.completedFuture(Optional.ofNullable(map.get(clientId)));
        }

        @Override
        public CompletableFuture<Void> put(Registration registration) {
            map.put(registration.clientId(), registration);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> delete(String clientId) {
            return CompletableFuture.completedFuture(map.remove(clientId) != null);
        }

        @Override
        public CompletableFuture<Void> ping() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Long> count() {
            return CompletableFuture.completedFuture((long) map.size());
        }

        @Override
        public void close() {
        }
    }
}
