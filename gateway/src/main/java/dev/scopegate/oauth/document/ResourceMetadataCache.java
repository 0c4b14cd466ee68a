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
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code resource} source of the scope chain: the {@code scopes_supported} of the protected
 * resource a client names in its {@code resource} parameter (RFC 8707), read from the resource's
 * RFC 9728 metadata.
 *
 * <p>Resources listed in config ({@code resources:}) are answered from config, never fetched.
 * Other resources are fetched only when their origin is in the allow-list (the upstream origins
 * and the public base URL, {@link #fetchableOrigins}): a client-chosen {@code resource} can never
 * make scopegate connect anywhere else. The allow-list is read per lookup from a supplier, so it
 * follows {@code routes} on a reload. A fetched document counts only if it is a 200 JSON object whose
 * {@code resource} is identical to the requested value (RFC 9728 §3.3).
 *
 * <p>Caching: at most {@value #MAX_ENTRIES} resources; a good document lives for its
 * {@code Cache-Control: max-age} clamped to [1 min, 1 h] (5 min without one, not at all with
 * {@code no-store}); a failure (non-200, network error, timeout, invalid document) is remembered
 * for 1 min. Concurrent requests for the same resource share one fetch.
 *
 * <p>Thread-safe; no method blocks. Futures complete on the fetcher's threads (or at once), never
 * exceptionally. Build a new instance when {@code resources:} changes (a restart-only key).
 */
public final class ResourceMetadataCache {

    /** The RFC 9728 well-known path, inserted between a resource's host and its path. */
    public static final String WELL_KNOWN_PATH = "/.well-known/oauth-protected-resource";

    static final long MAX_ENTRIES = 10_000;
    static final Duration MIN_TTL = Duration.ofMinutes(1);
    static final Duration MAX_TTL = Duration.ofHours(1);
    static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
    static final Duration NEGATIVE_TTL = Duration.ofMinutes(1);
    static final int MAX_BYTES = 64 * 1024;
    static final Duration FETCH_TIMEOUT = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(ResourceMetadataCache.class);

    private final Map<String, ScopegateConfig.Resource> configured;   // by normalized resource
    private final Supplier<Set<String>> allowedOrigins;
    private final HttpFetcher fetcher;
    private final ObjectMapper json;
    private final AsyncCache<String, Expiring<List<String>>> cache;

    /**
     * @param configured     the {@code resources:} of config, answered without fetching
     * @param allowedOrigins origins ({@code https://my-domain}, {@code http://10.0.0.5:8081} …) whose
     *                       resources may be fetched; compared case-insensitively, default ports ignored
     * @param fetcher        the HTTP client
     * @param nanoTicker     monotonic nanoseconds ({@code System::nanoTime}) for expiry
     */
    public ResourceMetadataCache(List<ScopegateConfig.Resource> configured, Set<String> allowedOrigins,
                                 HttpFetcher fetcher, LongSupplier nanoTicker) {
        this(configured, constant(normalizedOrigins(Objects.requireNonNull(allowedOrigins, "allowedOrigins"))),
                fetcher, nanoTicker);
    }

    /**
     * @param allowedOrigins the current allow-list, as {@link #fetchableOrigins} builds it from the
     *                       current config snapshot (the same instance until the config changes:
     *                       answers are memoized per instance)
     */
    public ResourceMetadataCache(List<ScopegateConfig.Resource> configured, Supplier<Set<String>> allowedOrigins,
                                 HttpFetcher fetcher, LongSupplier nanoTicker) {
        Objects.requireNonNull(configured, "configured");
        this.allowedOrigins = Objects.requireNonNull(allowedOrigins, "allowedOrigins");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        Objects.requireNonNull(nanoTicker, "nanoTicker");
        Map<String, ScopegateConfig.Resource> byKey = new LinkedHashMap<>();
        for (ScopegateConfig.Resource r : configured) {
            String key = normalized(r.resource().toString());
            if (key == null) {
                throw new IllegalArgumentException("resource is not an http(s) URL: " + r.resource());
            }
            byKey.putIfAbsent(key, r);
        }
        this.configured = Map.copyOf(byKey);
        this.json = new ObjectMapper()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.cache = Caffeine.newBuilder()
                .maximumSize(MAX_ENTRIES)
                .expireAfter(Expiring.<String, List<String>>expiry())
                .ticker(nanoTicker::getAsLong)
                .executor(Runnable::run)
                .recordStats()
                .buildAsync();
    }

    /**
     * The origins whose resources may be fetched under {@code config}: {@code upstream.url},
     * {@code public-base-url} and every {@code routes[].url}, normalized.
     */
    public static Set<String> fetchableOrigins(ScopegateConfig config) {
        Set<String> origins = new LinkedHashSet<>();
        origins.add(config.upstream().url().toString());
        if (config.publicBaseUrl() != null) {
            origins.add(config.publicBaseUrl().toString());
        }
        config.routes().forEach(r -> origins.add(r.url().toString()));
        return normalizedOrigins(origins);
    }

    private static Set<String> normalizedOrigins(Set<String> origins) {
        return origins.stream().map(o -> {
            String origin = Urls.origin(o);
            if (origin == null) {
                throw new IllegalArgumentException("not an http(s) origin: " + o);
            }
            return origin;
        }).collect(Collectors.toUnmodifiableSet());
    }

    private static Supplier<Set<String>> constant(Set<String> origins) {
        return () -> origins;
    }

    /**
     * The RFC 9728 metadata URL of {@code resource}: the well-known path goes between the
     * authority and the path ({@code https://h/mcp} → {@code https://h/.well-known/oauth-protected-resource/mcp});
     * a path of just "/" is dropped; a query is kept.
     *
     * @throws IllegalArgumentException when {@code resource} is not an http(s) URL without fragment
     */
    public static URI metadataUrl(URI resource) {
        URI uri = Urls.parseHttp(resource.toString());
        if (uri == null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("not a resource identifier: " + resource);
        }
        String path = uri.getRawPath() == null || uri.getRawPath().equals("/") ? "" : uri.getRawPath();
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        return URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + WELL_KNOWN_PATH + path + query);
    }

    /**
     * The {@code scopes_supported} of {@code resource} (an RFC 8707 {@code resource} value, decoded);
     * empty when unknown, not allowed, absent from the document, or the fetch failed.
     */
    public CompletableFuture<List<String>> scopesFor(String resource) {
        List<String> immediate = answerWithoutCache(resource);
        if (immediate != null) {
            return CompletableFuture.completedFuture(immediate);
        }
        return cache.get(resource, (key, executor) -> fetch(key)).thenApply(Expiring::value);
    }

    /**
     * What {@link #scopesFor} would answer if that is known without waiting (configured, not
     * fetchable, or cached and complete); null when a fetch is needed or still running.
     */
    public List<String> cachedOrNull(String resource) {
        List<String> immediate = answerWithoutCache(resource);
        if (immediate != null) {
            return immediate;
        }
        CompletableFuture<Expiring<List<String>>> f = cache.getIfPresent(resource);
        return f != null && f.isDone() && !f.isCompletedExceptionally() ? f.join().value() : null;
    }

    /**
     * The RFC 9728 document scopegate itself serves for a configured resource at
     * {@code requestPath} ({@code /.well-known/oauth-protected-resource/mcp}, raw, query included
     * if any): {@code resource}, {@code authorization_servers: [authorizationServer]} and
     * {@code scopes_supported}. {@code authorizationServer} must be the issuer clients will find in
     * the authorization server metadata scopegate serves (RFC 8414 §3.3), normally the public base
     * URL. Where several configured resources share the path, the one on
     * {@code authorizationServer}'s origin wins. Empty when no configured resource matches.
     */
    public Optional<byte[]> publishedDocument(String requestPath, String authorizationServer) {
        Objects.requireNonNull(authorizationServer, "authorizationServer");
        if (requestPath == null || !requestPath.startsWith(WELL_KNOWN_PATH)) {
            return Optional.empty();
        }
        String suffix = requestPath.substring(WELL_KNOWN_PATH.length());
        String wanted;
        if (suffix.isEmpty() || suffix.startsWith("?")) {
            wanted = "/" + suffix;
        } else if (suffix.startsWith("/")) {
            wanted = suffix;
        } else {
            return Optional.empty();
        }
        String preferredOrigin = Urls.origin(authorizationServer);
        ScopegateConfig.Resource match = null;
        for (ScopegateConfig.Resource r : configured.values()) {
            URI uri = r.resource();
            if (Urls.pathAndQuery(uri).equals(wanted)
                    && (match == null || Urls.origin(uri).equals(preferredOrigin))) {
                match = r;
            }
        }
        if (match == null) {
            return Optional.empty();
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("resource", match.resource().toString());
        doc.put("authorization_servers", List.of(authorizationServer));
        doc.put("scopes_supported", match.scopesSupported());
        try {
            return Optional.of(json.writeValueAsBytes(doc));
        } catch (IOException e) {
            throw new IllegalStateException(e);         // a map of strings always serializes
        }
    }

    /** Hit/miss/eviction counters of the fetched-document cache (configured resources don't count). */
    public CacheStats stats() {
        return cache.synchronous().stats();
    }

    /** Approximate number of cached resources. */
    public long estimatedSize() {
        return cache.synchronous().estimatedSize();
    }

    /** The answer when no cache is involved, or null when the resource must be fetched. */
    /**
     * {@link #immediateAnswer} of recent resources: a pure function of the resource string and the
     * allow-list instance (a reload brings a new one, which misses every entry), and
     * the same few resources come with every authorization request, so they are parsed once, not
     * per request. Direct-mapped and racy by design (entries are immutable): a collision or race
     * only costs parsing again; long values are never kept.
     */
    private final Immediate[] immediate = new Immediate[256];

    /** {@code answer} null: the resource may be fetched (ask the cache). */
    private record Immediate(String resource, Set<String> origins, List<String> answer) {}

    private List<String> answerWithoutCache(String resource) {
        Set<String> origins = allowedOrigins.get();
        if (resource == null || resource.length() > 512) {
            return immediateAnswer(resource, origins);
        }
        int h = resource.hashCode();
        int slot = (h ^ h >>> 16) & (immediate.length - 1);
        Immediate e = immediate[slot];
        if (e != null && e.origins() == origins && (e.resource() == resource || e.resource().equals(resource))) {
            return e.answer();
        }
        List<String> answer = immediateAnswer(resource, origins);
        immediate[slot] = new Immediate(resource, origins, answer);
        return answer;
    }

    private List<String> immediateAnswer(String resource, Set<String> allowedOrigins) {
        String key = normalized(resource);
        if (key == null) {
            return List.of();
        }
        ScopegateConfig.Resource r = configured.get(key);
        if (r != null) {
            return r.scopesSupported();
        }
        if (!allowedOrigins.contains(Urls.origin(resource))) {
            log.debug("resource {} is not on an allowed origin; not fetched", resource);
            return List.of();
        }
        return null;
    }

    private static String normalized(String resource) {
        URI uri = Urls.parseHttp(resource);
        if (uri == null || uri.getRawFragment() != null) {
            return null;
        }
        return Urls.origin(uri) + Urls.pathAndQuery(uri);
    }

    private CompletableFuture<Expiring<List<String>>> fetch(String resource) {
        URI url = metadataUrl(URI.create(resource));
        CompletableFuture<HttpFetcher.Response> response;
        try {
            response = fetcher.get(url, Map.of("Accept", "application/json"), MAX_BYTES, FETCH_TIMEOUT);
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        return response.handle((r, error) -> {
            if (error != null) {
                log.debug("resource metadata {} failed: {}", url, error.toString());
                return negative();
            }
            return parse(resource, url, r);
        });
    }

    private Expiring<List<String>> parse(String resource, URI url, HttpFetcher.Response response) {
        if (response.status() != 200) {
            log.debug("resource metadata {} answered {}", url, response.status());
            return negative();
        }
        JsonNode doc;
        try {
            doc = json.readTree(response.body());
        } catch (IOException e) {
            log.debug("resource metadata {} is not JSON: {}", url, e.getMessage());
            return negative();
        }
        if (doc == null || !doc.isObject()) {
            log.debug("resource metadata {} is not a JSON object", url);
            return negative();
        }
        JsonNode named = doc.get("resource");
        if (named == null || !named.isTextual() || !named.textValue().equals(resource)) {
            log.debug("resource metadata {} names another resource; ignored (RFC 9728 §3.3)", url);
            return negative();
        }
        JsonNode scopes = doc.get("scopes_supported");
        List<String> list;
        if (scopes == null || scopes.isNull()) {
            list = List.of();
        } else if (scopes.isArray()) {
            Set<String> seen = new LinkedHashSet<>();
            for (JsonNode s : scopes) {
                if (!s.isTextual()) {
                    log.debug("resource metadata {} has a non-string scope", url);
                    return negative();
                }
                seen.add(s.textValue());
            }
            list = List.copyOf(new ArrayList<>(seen));
        } else {
            log.debug("resource metadata {} has scopes_supported that is not an array", url);
            return negative();
        }
        return new Expiring<>(list, Freshness.of(response, MIN_TTL, MAX_TTL, DEFAULT_TTL));
    }

    private static Expiring<List<String>> negative() {
        return new Expiring<>(List.of(), NEGATIVE_TTL);
    }
}
