package dev.scopegate.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The whole validated configuration: immutable, built once per (re)load by {@link ConfigLoader}.
 * Every nested record is immutable too; collections are unmodifiable. Safe to share across threads.
 *
 * <p>YAML keys are the kebab-case forms of the component names ({@code public-base-url},
 * {@code max-connections} …). Nullable components are marked; every other component is non-null
 * after loading (defaults filled in).
 */
public record ScopegateConfig(
        Listen listen,
        Admin admin,
        /* nullable */ URI publicBaseUrl,
        List<Cidr> trustedProxies,
        Upstream upstream,
        List<Route> routes,
        Metadata metadata,
        Endpoints endpoints,
        Scope scope,
        List<Resource> resources,
        Limits limits,
        Store store,
        Cache cache,
        Logging logging,
        Health health) {

    public ScopegateConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(admin, "admin");
        trustedProxies = List.copyOf(trustedProxies);
        Objects.requireNonNull(upstream, "upstream");
        routes = List.copyOf(routes);
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(endpoints, "endpoints");
        Objects.requireNonNull(scope, "scope");
        resources = List.copyOf(resources);
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(logging, "logging");
        Objects.requireNonNull(health, "health");
    }

    /** {@code listen}: the proxy listener. {@code drain-timeout} bounds graceful shutdown. */
    public record Listen(String host, int port, Tls tls, Duration drainTimeout) {}

    /** {@code listen.tls}: PEM files; both null means plain HTTP. */
    public record Tls(/* nullable */ String cert, /* nullable */ String key) {
        public boolean enabled() {
            return cert != null && key != null;
        }
    }

    /**
     * {@code admin}: the admin listener; an empty token means no auth on {@code /admin/*}.
     * {@code token-file} (nullable) names a file whose trimmed content is the token (a mounted
     * Kubernetes secret); {@code token} then holds that content, read at each (re)load.
     * {@link #toString()} masks the token so that printing or logging the config never leaks it.
     */
    public record Admin(String host, int port, String token, /* nullable */ String tokenFile) {
        @Override
        public String toString() {
            String shown = token == null || token.isEmpty() ? "\"\"" : Secrets.MASK;
            return "Admin[host=" + host + ", port=" + port + ", token=" + shown + ", tokenFile=" + tokenFile + "]";
        }
    }

    /**
     * {@code upstream}: the IdP. {@code rewrite-host: true} sends the upstream's authority as
     * {@code Host} instead of the client's. {@code idle-timeout} closes pooled idle connections.
     * {@code response-timeout} bounds the wait for the response head; {@code read-timeout} the
     * silence between two reads of a response after its head ({@link Duration#ZERO}: none).
     */
    public record Upstream(URI url, Duration connectTimeout, Duration responseTimeout, Duration readTimeout,
                           int maxConnections, Duration idleTimeout, boolean rewriteHost, UpstreamTls tls) {}

    /**
     * {@code upstream.tls}: PEM files for the connections to the IdP's origin (proxied requests and
     * metadata fetches). {@code ca} (nullable) replaces the JDK trust store for them; {@code cert}
     * and {@code key} (both or neither) are the client certificate chain and its key for mTLS.
     */
    public record UpstreamTls(/* nullable */ String ca, /* nullable */ String cert, /* nullable */ String key) {
        public static final UpstreamTls NONE = new UpstreamTls(null, null, null);

        /** Whether any file is set (otherwise the JDK defaults apply). */
        public boolean configured() {
            return ca != null || cert != null;
        }
    }

    /**
     * One entry of {@code routes}: requests whose path starts with {@code prefix} go to {@code url}.
     * {@code read-timeout} null means the route inherits {@code upstream.read-timeout}.
     */
    public record Route(String prefix, URI url, boolean rewriteHost, /* nullable */ Duration readTimeout) {}

    /** {@code metadata}. */
    public record Metadata(Duration refresh, Augment augment) {}

    /**
     * {@code metadata.augment}: {@code scopes-supported} (nullable) is added where the IdP omits
     * it; {@code rewrite-origin} rewrites the IdP's internal origin in endpoint URLs.
     */
    public record Augment(/* nullable */ List<String> scopesSupported, boolean rewriteOrigin) {}

    /** {@code endpoints}: path overrides (nullable each) of what the IdP's metadata names. */
    public record Endpoints(/* nullable */ String authorization, /* nullable */ String par,
                            /* nullable */ String registration, /* nullable */ String token) {}

    /** {@code scope}: the scope-resolution chain, DESIGN §3. */
    public record Scope(
            Trigger trigger,
            List<Source> sources,
            String defaultScope,            // YAML key: default
            List<String> deny,
            boolean onlySupported,
            boolean acceptCommas,
            OnUnresolved onUnresolved,
            OfflineAccessPrompt offlineAccessPrompt,
            boolean dryRun,
            Map<String, String> clients,    // client_id -> scope
            List<Family> families,
            Learn learn,
            Document document) {

        public Scope {
            sources = List.copyOf(sources);
            deny = List.copyOf(deny);
            clients = Map.copyOf(clients);
            families = List.copyOf(families);
        }
    }

    public enum Trigger { MISSING, MISSING_OR_EMPTY }

    public enum Source { CLIENT, REGISTERED, LEARNED, DOCUMENT, RESOURCE, SERVER, DEFAULT }

    public enum OnUnresolved { FORWARD, REJECT }

    /**
     * {@code scope.offline-access-prompt}: what scopegate adds beside a scope it adds that holds
     * {@code offline_access}, when the request names no {@code prompt}. {@code CONSENT} adds
     * {@code prompt=consent} (OpenID Connect Core §11: many IdPs issue a refresh token for
     * {@code offline_access} only after consent); {@code NONE} adds nothing (it is not
     * {@code prompt=none}).
     */
    public enum OfflineAccessPrompt { CONSENT, NONE }

    /**
     * One entry of {@code scope.families}: clients whose {@code redirect_uri} host matches one of
     * {@code redirect-hosts} (exact, or {@code *.suffix}; stored lower-case, so compare the
     * lower-cased host) belong to family {@code name} (a metric label, {@code [a-z0-9_.-]+});
     * {@code scope} (nullable) is the {@code client} source's candidate for them.
     */
    public record Family(String name, List<String> redirectHosts, /* nullable */ String scope) {
        public Family {
            redirectHosts = List.copyOf(redirectHosts);
        }
    }

    /** {@code scope.learn}: which observations feed the {@code learned} source. */
    public record Learn(boolean authorize, boolean token) {}

    /**
     * {@code scope.document}: fetching Client ID Metadata Documents. {@code allow-private} lets
     * loopback/private addresses through the SSRF guard (tests only).
     */
    public record Document(boolean allowPrivate, int maxBytes, Duration timeout) {}

    /** One entry of {@code resources}: protected-resource metadata scopegate publishes (RFC 9728). */
    public record Resource(URI resource, List<String> scopesSupported) {
        public Resource {
            scopesSupported = List.copyOf(scopesSupported);
        }
    }

    /** {@code limits}: byte caps. */
    public record Limits(int maxHeaderBytes, int maxInitialLineBytes, int maxFormBytes, int maxCaptureBytes) {}

    public enum StoreType { EMBEDDED, REDIS }

    /** {@code store}. */
    public record Store(StoreType type, String path, Redis redis) {}

    /**
     * {@code store.redis}. {@code password-file} (nullable) names a file whose trimmed content is
     * the password for a {@code uri} that carries none (a mounted Kubernetes secret);
     * {@code password} (nullable, not a YAML key) holds that content, read at each (re)load.
     * {@link #toString()} masks both and a password in {@code uri} ({@code redis://:pw@host}).
     */
    public record Redis(String uri, String keyPrefix, /* nullable */ String passwordFile, /* nullable */ String password) {
        @Override
        public String toString() {
            return "Redis[uri=" + Secrets.maskUserInfo(uri) + ", keyPrefix=" + keyPrefix + ", passwordFile=" + passwordFile
                    + ", password=" + (password == null ? "null" : Secrets.MASK) + "]";
        }
    }

    /** {@code cache}. */
    public record Cache(Registrations registrations, UnknownClients unknownClients) {}

    /** {@code cache.registrations}. */
    public record Registrations(long maxSize, Duration expireAfterAccess) {}

    /** {@code cache.unknown-clients}: client_ids the store does not know, remembered apart so they cannot crowd out registrations. */
    public record UnknownClients(long maxSize) {}

    /** {@code logging}: {@code access: false} switches the access log off; {@code json} picks the JSON layout. */
    public record Logging(boolean access, boolean json) {}

    /**
     * {@code health}: {@code port} 0 means no listener of its own (the probes stay on the admin
     * listener); otherwise a listener on {@code host:port} serving only {@code GET /healthz},
     * {@code /readyz} and {@code /metrics}. {@code store-required: false} keeps {@code /readyz}
     * at 200 while the store is unreachable (its JSON still says {@code "store": false}).
     */
    public record Health(String host, int port, boolean storeRequired) {
        public boolean listenerEnabled() {
            return port != 0;
        }
    }
}
