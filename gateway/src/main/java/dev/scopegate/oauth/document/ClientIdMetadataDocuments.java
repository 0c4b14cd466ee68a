package dev.scopegate.oauth.document;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.oauth.HttpFetcher;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code document} source of the scope chain: for a {@code client_id} that is a URL, the
 * Client ID Metadata Document it names (MCP 2025-11-25, draft-ietf-oauth-client-id-metadata-document).
 *
 * <p>The URL comes from an unauthenticated client, so fetching it is guarded against SSRF:
 * <ul>
 *   <li>syntax: {@code https} only, a path, no dot segments, no fragment, no user info, no
 *       ambiguous numeric host;</li>
 *   <li>addresses: every address the host resolves to (through the injected {@link Resolver}, run
 *       on the injected executor, never on the caller) must be public ({@link AddressGuard});</li>
 *   <li>the fetch itself: a redirect is a failure, never followed (an {@link HttpFetcher} returns
 *       every status as is), the body is capped at
 *       {@code scope.document.max-bytes}, the whole fetch at {@code scope.document.timeout}
 *       (DNS gets the same budget again), and at most {@value #MAX_IN_FLIGHT} fetches run at once
 *       (beyond that, or when the resolver executor is full, a lookup yields
 *       empty, uncached).</li>
 * </ul>
 * {@code scope.document.allow-private} (tests only) lifts the address rule, except for cloud
 * metadata endpoints, and admits plain {@code http} so tests can use a local server.
 *
 * <p>Residual risk: the fetcher resolves the host again when it connects, so a DNS server that
 * answers differently the second time (rebinding) is not caught here.
 *
 * <p>A document counts only if it is a 200 JSON object whose {@code client_id} equals the URL
 * exactly, that holds no {@code client_secret} and no shared-secret
 * {@code token_endpoint_auth_method}, and whose {@code scope} (if any) is a string and
 * {@code redirect_uris} (if any) an array of strings. A good document is kept for its
 * {@code Cache-Control: max-age} clamped to [1 min, 24 h] (5 min without one, not at all with
 * {@code no-store}); any failure for 1 min; at most {@value #MAX_ENTRIES} client_ids. Concurrent
 * lookups of one client_id share one fetch.
 *
 * <p>Thread-safe; no method blocks. Futures never complete exceptionally and complete on the
 * resolver executor's or the fetcher's threads (or at once). Build a new instance when
 * {@code scope.document} changes.
 */
public final class ClientIdMetadataDocuments {

    static final int MAX_IN_FLIGHT = 64;
    static final long MAX_ENTRIES = 10_000;
    static final Duration MIN_TTL = Duration.ofMinutes(1);
    static final Duration MAX_TTL = Duration.ofHours(24);
    static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    static final Duration NEGATIVE_TTL = Duration.ofMinutes(1);

    private static final Set<String> SHARED_SECRET_AUTH_METHODS =
            Set.of("client_secret_basic", "client_secret_post", "client_secret_jwt");

    private static final Logger log = LoggerFactory.getLogger(ClientIdMetadataDocuments.class);

    private final ScopegateConfig.Document config;
    private final HttpFetcher fetcher;
    private final Resolver resolver;
    private final Executor resolverExecutor;
    private final ObjectMapper json;
    private final AsyncCache<String, Expiring<Optional<ClientDocument>>> cache;
    private final AtomicInteger inFlight = new AtomicInteger();

    /**
     * @param config           {@code scope.document}: allow-private, max-bytes, timeout
     * @param fetcher          the HTTP client
     * @param resolver         host name resolution for the address guard ({@link Resolver#system()})
     * @param resolverExecutor where {@code resolver} runs ({@link Resolver#newExecutor(int)}); never an I/O thread
     * @param nanoTicker       monotonic nanoseconds ({@code System::nanoTime}) for expiry
     */
    public ClientIdMetadataDocuments(ScopegateConfig.Document config, HttpFetcher fetcher, Resolver resolver,
                                     Executor resolverExecutor, LongSupplier nanoTicker) {
        this.config = Objects.requireNonNull(config, "config");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
        this.resolverExecutor = Objects.requireNonNull(resolverExecutor, "resolverExecutor");
        Objects.requireNonNull(nanoTicker, "nanoTicker");
        this.json = new ObjectMapper()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.cache = Caffeine.newBuilder()
                .maximumSize(MAX_ENTRIES)
                .expireAfter(Expiring.<String, Optional<ClientDocument>>expiry())
                .ticker(nanoTicker::getAsLong)
                .executor(Runnable::run)
                .recordStats()
                .buildAsync();
    }

    /**
     * True when {@code clientId} is meant as a document URL (starts with {@code https://} or
     * {@code http://}), whether or not it will pass the guards.
     */
    public static boolean isDocumentUrl(String clientId) {
        return ClientIdUrls.looksLikeUrl(clientId);
    }

    /**
     * The document {@code clientId} names; empty when it is not a URL, is refused by a guard, or
     * the fetch or validation failed.
     */
    public CompletableFuture<Optional<ClientDocument>> lookup(String clientId) {
        ClientIdUrls.Target target = target(clientId);
        if (target == null) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return cache.get(clientId, (key, executor) -> load(key, target)).thenApply(Expiring::value);
    }

    /**
     * What {@link #lookup} would answer if that is known without waiting; null when a fetch is
     * needed or still running.
     */
    public Optional<ClientDocument> cachedOrNull(String clientId) {
        if (target(clientId) == null) {
            return Optional.empty();
        }
        CompletableFuture<Expiring<Optional<ClientDocument>>> f = cache.getIfPresent(clientId);
        return f != null && f.isDone() && !f.isCompletedExceptionally() ? f.join().value() : null;
    }

    /** Hit/miss/eviction counters of the document cache. */
    public CacheStats stats() {
        return cache.synchronous().stats();
    }

    /** Approximate number of cached client_ids. */
    public long estimatedSize() {
        return cache.synchronous().estimatedSize();
    }

    private ClientIdUrls.Target target(String clientId) {
        if (!ClientIdUrls.looksLikeUrl(clientId)) {
            return null;
        }
        try {
            return ClientIdUrls.check(clientId, config.allowPrivate());
        } catch (IllegalArgumentException e) {
            log.debug("client_id {} not fetched: {}", Urls.forLog(clientId), e.getMessage());
            return null;
        }
    }

    private CompletableFuture<Expiring<Optional<ClientDocument>>> load(String clientId, ClientIdUrls.Target target) {
        if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
            inFlight.decrementAndGet();
            log.debug("client_id {} not fetched: {} fetches already running", Urls.forLog(clientId), MAX_IN_FLIGHT);
            return CompletableFuture.completedFuture(new Expiring<>(Optional.empty(), Duration.ZERO));
        }
        CompletableFuture<Expiring<Optional<ClientDocument>>> result;
        try {
            result = addresses(target)
                    .thenCompose(addresses -> fetchIfPermitted(clientId, target.uri(), addresses))
                    .handle((entry, error) -> {
                        if (error != null) {
                            log.debug("client_id {} fetch failed: {}", Urls.forLog(clientId), error.toString());
                            return negative();
                        }
                        return entry;
                    });
        } catch (RuntimeException e) {
            // The resolver executor is full: a local overload, not the document's fault, so not remembered.
            log.debug("client_id {} not fetched: {}", Urls.forLog(clientId), e.toString());
            result = CompletableFuture.completedFuture(new Expiring<>(Optional.empty(), Duration.ZERO));
        }
        return result.whenComplete((entry, error) -> inFlight.decrementAndGet());
    }

    private CompletableFuture<InetAddress[]> addresses(ClientIdUrls.Target target) {
        if (target.literal() != null) {
            return CompletableFuture.completedFuture(new InetAddress[] {target.literal()});
        }
        String host = target.uri().getHost();
        return CompletableFuture.supplyAsync(() -> {
            try {
                return resolver.resolve(host);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, resolverExecutor).orTimeout(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private CompletableFuture<Expiring<Optional<ClientDocument>>> fetchIfPermitted(
            String clientId, URI uri, InetAddress[] addresses) {
        if (addresses == null || addresses.length == 0) {
            log.debug("client_id {} not fetched: host has no address", Urls.forLog(clientId));
            return CompletableFuture.completedFuture(negative());
        }
        for (InetAddress a : addresses) {
            if (!AddressGuard.permitted(a, config.allowPrivate())) {
                log.debug("client_id {} not fetched: host resolves to non-public {}", Urls.forLog(clientId), a.getHostAddress());
                return CompletableFuture.completedFuture(negative());
            }
        }
        return fetcher.get(uri, Map.of("Accept", "application/json"), config.maxBytes(), config.timeout())
                .thenApply(response -> parse(clientId, response));
    }

    private Expiring<Optional<ClientDocument>> parse(String clientId, HttpFetcher.Response response) {
        if (response.status() != 200) {
            return invalid(clientId, "status " + response.status());
        }
        JsonNode doc;
        try {
            doc = json.readTree(response.body());
        } catch (IOException e) {
            return invalid(clientId, "not JSON");
        }
        if (doc == null || !doc.isObject()) {
            return invalid(clientId, "not a JSON object");
        }
        JsonNode id = doc.get("client_id");
        if (id == null || !id.isTextual() || !id.textValue().equals(clientId)) {
            return invalid(clientId, "client_id does not equal the document URL");
        }
        if (doc.has("client_secret") || doc.has("client_secret_expires_at")) {
            return invalid(clientId, "holds a client_secret");
        }
        JsonNode auth = doc.get("token_endpoint_auth_method");
        if (auth != null && auth.isTextual() && SHARED_SECRET_AUTH_METHODS.contains(auth.textValue())) {
            return invalid(clientId, "uses a shared-secret token_endpoint_auth_method");
        }
        JsonNode scopeNode = doc.get("scope");
        String scope;
        if (scopeNode == null || scopeNode.isNull()) {
            scope = null;
        } else if (scopeNode.isTextual()) {
            scope = scopeNode.textValue();
        } else {
            return invalid(clientId, "scope is not a string");
        }
        JsonNode urisNode = doc.get("redirect_uris");
        List<String> redirectUris = new ArrayList<>();
        if (urisNode != null && !urisNode.isNull()) {
            if (!urisNode.isArray()) {
                return invalid(clientId, "redirect_uris is not an array");
            }
            for (JsonNode u : urisNode) {
                if (!u.isTextual()) {
                    return invalid(clientId, "redirect_uris holds a non-string");
                }
                redirectUris.add(u.textValue());
            }
        }
        Duration ttl = Freshness.of(response, MIN_TTL, MAX_TTL, DEFAULT_TTL);
        return new Expiring<>(Optional.of(new ClientDocument(clientId, scope, redirectUris)), ttl);
    }

    private static Expiring<Optional<ClientDocument>> invalid(String clientId, String reason) {
        log.debug("client_id {} document rejected: {}", Urls.forLog(clientId), reason);
        return negative();
    }

    private static Expiring<Optional<ClientDocument>> negative() {
        return new Expiring<>(Optional.empty(), NEGATIVE_TTL);
    }
}
