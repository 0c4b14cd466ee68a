package dev.scopegate.config;

import dev.scopegate.config.Schema.Computed;
import dev.scopegate.config.Schema.Default;
import dev.scopegate.config.Schema.Doc;
import dev.scopegate.config.Schema.Name;
import dev.scopegate.config.Schema.Nullable;
import dev.scopegate.config.Schema.Range;
import dev.scopegate.config.Schema.Required;
import dev.scopegate.config.Schema.Restart;
import dev.scopegate.config.Schema.Rule;
import dev.scopegate.config.Schema.Secret;
import dev.scopegate.config.Schema.Text;
import dev.scopegate.config.Schema.ZeroAllowed;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The whole validated configuration: immutable, built once per (re)load by {@link ConfigLoader}.
 * Every nested record is immutable too; collections are unmodifiable. Safe to share across threads.
 *
 * <p>These records are the one schema of the config (annotations in {@link Schema}): YAML keys are
 * the kebab-case forms of the component names ({@code public-base-url}, {@code max-connections} …),
 * each default is its component's {@code @Default}, {@code @Restart} marks what only a restart
 * applies, and {@code config/scopegate.schema.json} is generated from them ({@link JsonSchema}).
 * Adding a key is adding a component with its default; checks across keys or reading files go to
 * {@link Binder}. {@code @Nullable} components may be null; every other component is non-null
 * after loading (defaults filled in).
 */
public record ScopegateConfig(
        @Restart @Doc("The proxy listener.") Listen listen,
        @Doc("The admin listener: metrics, health, explain, client admin.") Admin admin,
        @Restart @Nullable @Doc("The public origin (and path) clients use; issuer and endpoint URLs are built from it.")
        URI publicBaseUrl,
        @Doc("Addresses or CIDRs whose X-Forwarded-* headers are trusted.") List<Cidr> trustedProxies,
        @Doc("The IdP.") Upstream upstream,
        @Doc("Path prefixes proxied to other origins (first match wins).") List<Route> routes,
        Metadata metadata,
        @Doc("Adjustments for IdPs that fall short of what MCP clients send or expect.") Compat compat,
        @Doc("Path overrides of what the IdP's metadata names.") Endpoints endpoints,
        @Doc("The scope-resolution chain.") Scope scope,
        @Restart @Doc("Protected-resource metadata scopegate publishes (RFC 9728).") List<Resource> resources,
        Limits limits,
        @Restart Store store,
        @Restart Cache cache,
        Logging logging,
        Health health) {

    public ScopegateConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(admin, "admin");
        trustedProxies = List.copyOf(trustedProxies);
        Objects.requireNonNull(upstream, "upstream");
        routes = List.copyOf(routes);
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(compat, "compat");
        Objects.requireNonNull(endpoints, "endpoints");
        Objects.requireNonNull(scope, "scope");
        resources = List.copyOf(resources);
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(logging, "logging");
        Objects.requireNonNull(health, "health");
    }


    /**
     * {@code compat.resource-parameter}: {@code FORWARD} leaves them as they are; {@code STRIP}
     * removes them; {@code AUDIENCE} sends the first one's value as {@code audience} (unless the
     * request has an {@code audience}) and removes the others.
     */
    public enum ResourceParameter { FORWARD, STRIP, AUDIENCE }

    /** {@code listen}: the proxy listener. {@code drain-timeout} bounds graceful shutdown. */
    public record Listen(@Text(Rule.HOST) @Default("0.0.0.0") String host,
                         @Range(max = 65535) @Default("8080") @Doc("0 picks a free port.") int port,
                         Tls tls,
                         @ZeroAllowed @Default("10s") Duration drainTimeout) {}

    /** {@code listen.tls}: PEM files; both null means plain HTTP. */
    public record Tls(@Nullable @Doc("PEM certificate chain.") String cert, @Nullable @Doc("PEM private key.") String key) {
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
    public record Admin(@Restart @Text(Rule.HOST) @Default("127.0.0.1") String host,
                        @Restart @Range(max = 65535) @Default("9090") int port,
                        @Secret @Default("''") @Doc("Bearer token for /admin/*; empty: no auth.") String token,
                        @Nullable @Doc("A file whose trimmed content is the token.") String tokenFile) {
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
    public record Upstream(@Restart @Default("http://127.0.0.1:8081") URI url,
                           @Restart @Default("2s") Duration connectTimeout,
                           @Default("30s") Duration responseTimeout,
                           @ZeroAllowed @Default("60s") Duration readTimeout,
                           @Restart @Range(min = 1) @Default("512") int maxConnections,
                           @Restart @Default("60s") Duration idleTimeout,
                           @Default("false") boolean rewriteHost,
                           @Restart UpstreamTls tls) {}

    /**
     * {@code upstream.tls}: PEM files for the connections to the IdP's origin (proxied requests and
     * metadata fetches). {@code ca} (nullable) replaces the JDK trust store for them; {@code cert}
     * and {@code key} (both or neither) are the client certificate chain and its key for mTLS.
     */
    public record UpstreamTls(@Nullable String ca, @Nullable String cert, @Nullable String key) {
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
    public record Route(@Required @Text(Rule.URL_PATH) String prefix, @Required URI url,
                        @Default("false") boolean rewriteHost, @Nullable @ZeroAllowed Duration readTimeout) {}

    /** {@code metadata}. */
    public record Metadata(@Default("5m") Duration refresh, Augment augment,
                           @Restart @Doc("Issuers other than public-base-url's, learned from discovery requests.")
                           Issuers issuers) {}

    /**
     * {@code metadata.issuers}: with {@code learn: true}, a discovery request for an issuer path
     * scopegate does not know ({@code /.well-known/openid-configuration/realms/b} …) makes it fetch
     * that issuer's metadata and, when its {@code issuer} is exactly the public issuer of that
     * path, serve and route it like the configured one. At most {@code max} issuers are learned;
     * a path that failed (not served, another issuer, an error) is not fetched again for
     * {@code negative-ttl}.
     */
    public record Issuers(@Default("false") @Doc("Learn issuers under path prefixes (Keycloak realms).") boolean learn,
                          @Range(min = 1, max = 1024) @Default("32") @Doc("Most issuers learned.") int max,
                          @Default("5m") @Doc("How long a path that was not learned is not fetched again.")
                          Duration negativeTtl) {
        public static final Issuers OFF = new Issuers(false, 32, Duration.ofMinutes(5));
    }

    /**
     * {@code metadata.augment}: {@code scopes-supported} (nullable) is added where the IdP omits
     * it; {@code rewrite-origin} rewrites the IdP's internal origin in endpoint URLs;
     * {@code code-challenge-methods-supported} (nullable) is added where the IdP omits it.
     */
    public record Augment(@Nullable @Text(Rule.SCOPE) List<String> scopesSupported,
                          @Default("false") boolean rewriteOrigin,
                          @Nullable @Text(Rule.TOKEN)
                          @Doc("PKCE methods (e.g. [S256]) added as code_challenge_methods_supported where the IdP omits it; only for an IdP that does support PKCE.")
                          List<String> codeChallengeMethodsSupported) {

        /** Without {@code code-challenge-methods-supported}. */
        public Augment(List<String> scopesSupported, boolean rewriteOrigin) {
            this(scopesSupported, rewriteOrigin, null);
        }
    }

    /**
     * {@code compat}: what scopegate changes for an IdP that falls short of what MCP clients send or
     * expect. {@code resource-parameter}: what becomes of RFC 8707 {@code resource} parameters in
     * authorization, PAR and token requests ({@link ResourceParameter}). {@code add-iss} adds
     * {@code iss} (RFC 9207) to the IdP's authorization responses that lack it and advertises
     * {@code authorization_response_iss_parameter_supported: true}.
     */
    public record Compat(@Default("forward") ResourceParameter resourceParameter,
                         @Default("false") @Doc("Add iss (RFC 9207) to the IdP's authorization responses that lack it.")
                         boolean addIss) {}

    /** {@code endpoints}: path overrides (nullable each) of what the IdP's metadata names. */
    public record Endpoints(@Nullable @Text(Rule.URL_PATH) String authorization,
                            @Nullable @Text(Rule.URL_PATH) String par,
                            @Nullable @Text(Rule.URL_PATH) String registration,
                            @Nullable @Text(Rule.URL_PATH) String token) {}

    /** {@code scope}: the scope-resolution chain, DESIGN §3. */
    public record Scope(
            @Default("missing-or-empty") Trigger trigger,
            @Default("[client, registered, learned, document, resource, default]") List<Source> sources,
            @Name("default") @Default("''") String defaultScope,
            @Text(Rule.SCOPE_GLOB) @Doc("Scopes never added ('*' matches any text).") List<String> deny,
            @Text(Rule.SCOPE) @Doc("Scopes added to every authorization request that lacks them, even one with a scope.")
            List<String> addAlways,
            @Default("true") boolean onlySupported,
            @Default("true") boolean acceptCommas,
            @Default("forward") OnUnresolved onUnresolved,
            @Default("consent") @Doc("consent: add prompt=consent when the added scope has offline_access; none: never") OfflineAccessPrompt offlineAccessPrompt,
            @Default("false") boolean dryRun,
            @Doc("client_id -> scope") Map<String, String> clients,
            List<Family> families,
            Learn learn,
            @Restart Document document,
            @Default("false") @Doc("Give a registration request (RFC 7591) without scope the scope the chain resolves for it.")
            boolean fillRegistration) {

        public Scope {
            sources = List.copyOf(sources);
            deny = List.copyOf(deny);
            addAlways = List.copyOf(addAlways);
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
    public record Family(@Required @Text(Rule.METRIC_LABEL) String name,
                         @Required @Text(Rule.HOST_RULE) List<String> redirectHosts, @Nullable String scope) {
        public Family {
            redirectHosts = List.copyOf(redirectHosts);
        }
    }

    /** {@code scope.learn}: which observations feed the {@code learned} source. */
    public record Learn(@Default("true") boolean authorize, @Default("true") boolean token) {}

    /**
     * {@code scope.document}: fetching Client ID Metadata Documents. {@code allow-private} lets
     * loopback/private addresses through the SSRF guard (tests only).
     */
    public record Document(@Default("false") boolean allowPrivate, @Range(min = 1024) @Default("65536") int maxBytes,
                           @Default("5s") Duration timeout) {}

    /**
     * One entry of {@code resources}: protected-resource metadata scopegate publishes (RFC 9728).
     * {@code challenge: true} completes the {@code Bearer} challenges of 401 (and 403
     * {@code insufficient_scope}) answers that a {@code routes} upstream sends for paths under the
     * resource's path: {@code resource_metadata} (this document's URL) and {@code scope}
     * ({@code scopes-supported}), where missing.
     */
    public record Resource(@Required URI resource, @Text(Rule.SCOPE) List<String> scopesSupported,
                           @Default("false") @Doc("Add resource_metadata and scope to the Bearer challenges of 401/403 answers of routes under this resource's path that lack them.")
                           boolean challenge) {
        public Resource {
            scopesSupported = List.copyOf(scopesSupported);
        }

        public Resource(URI resource, List<String> scopesSupported) {
            this(resource, scopesSupported, false);
        }
    }

    /** {@code limits}: byte caps. */
    public record Limits(@Restart @Range(min = 1024) @Default("16384") int maxHeaderBytes,
                         @Restart @Range(min = 1024) @Default("8192") int maxInitialLineBytes,
                         @Range(min = 1024) @Default("65536") int maxFormBytes,
                         @Range(min = 1024) @Default("262144") int maxCaptureBytes) {}

    public enum StoreType { EMBEDDED, REDIS }

    /** {@code store}. */
    public record Store(@Default("embedded") StoreType type, @Default("data") String path, Redis redis) {}

    /**
     * {@code store.redis}. {@code password-file} (nullable) names a file whose trimmed content is
     * the password for a {@code uri} that carries none (a mounted Kubernetes secret);
     * {@code password} (nullable, not a YAML key) holds that content, read at each (re)load.
     * {@link #toString()} masks both and a password in {@code uri} ({@code redis://:pw@host}).
     */
    public record Redis(@Secret @Default("'redis://127.0.0.1:6379'") String uri,
                        @Default("'scopegate:'") String keyPrefix,
                        @Nullable String passwordFile,
                        @Computed @Secret @Nullable String password) {
        @Override
        public String toString() {
            return "Redis[uri=" + Secrets.maskUserInfo(uri) + ", keyPrefix=" + keyPrefix + ", passwordFile=" + passwordFile
                    + ", password=" + (password == null ? "null" : Secrets.MASK) + "]";
        }
    }

    /** {@code cache}. */
    public record Cache(Registrations registrations, UnknownClients unknownClients) {}

    /** {@code cache.registrations}. */
    public record Registrations(@Range(min = 1) @Default("1000000") long maxSize,
                                @Default("30d") Duration expireAfterAccess) {}

    /** {@code cache.unknown-clients}: client_ids the store does not know, remembered apart so they cannot crowd out registrations. */
    public record UnknownClients(@Range(min = 0) @Default("10000") long maxSize) {}

    /** {@code logging}: {@code access: false} switches the access log off; {@code json} picks the JSON layout. */
    public record Logging(@Default("true") boolean access, @Restart @Default("false") boolean json) {}

    /**
     * {@code health}: {@code port} 0 means no listener of its own (the probes stay on the admin
     * listener); otherwise a listener on {@code host:port} serving only {@code GET /healthz},
     * {@code /readyz} and {@code /metrics}. {@code store-required: false} keeps {@code /readyz}
     * at 200 while the store is unreachable (its JSON still says {@code "store": false}).
     */
    public record Health(@Restart @Text(Rule.HOST) @Default("0.0.0.0") String host,
                         @Restart @Range(max = 65535) @Default("0") int port,
                         @Default("false") boolean storeRequired) {
        public boolean listenerEnabled() {
            return port != 0;
        }
    }
}
