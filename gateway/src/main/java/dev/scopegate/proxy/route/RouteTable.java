package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.ParamCache;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.EndpointPaths;
import dev.scopegate.oauth.metadata.LearnedIssuers;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.metadata.ServerMetadata;
import dev.scopegate.oauth.scope.ClientFamilies;
import dev.scopegate.store.RegistrationRepository;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The routes of requests bound to the IdP: {@link #classify} names the endpoint a request
 * addresses, by the paths the IdP's metadata names (or {@code endpoints:} overrides), and
 * {@link #plan} hands it to that endpoint's {@link Route}:
 *
 * <table>
 *   <caption>route per endpoint</caption>
 *   <tr><td>{@link RouteKind#AUTHORIZE}</td><td>{@link AuthorizeRoute}</td></tr>
 *   <tr><td>{@link RouteKind#PAR}</td><td>{@link ParRoute}</td></tr>
 *   <tr><td>{@link RouteKind#REGISTRATION}</td><td>{@link RegistrationRoute}</td></tr>
 *   <tr><td>{@link RouteKind#REGISTRATION_MANAGEMENT}</td><td>{@link RegistrationManagementRoute}</td></tr>
 *   <tr><td>{@link RouteKind#TOKEN}</td><td>{@link TokenLearningRoute}</td></tr>
 *   <tr><td>{@link RouteKind#METADATA}</td><td>{@link ResourceMetadataRoute} under
 *       {@code /.well-known/oauth-protected-resource}, else {@link MetadataRoute}</td></tr>
 * </table>
 *
 * Every other request is forwarded untouched.
 *
 * <p><b>Several issuers</b> ({@code metadata.issuers.learn}): the endpoints of learned issuers
 * ({@link LearnedIssuers}) are classified by their own metadata, after the configured issuer's,
 * and get the same routes; {@link #issuerFor} names the issuer whose endpoint a path is, so that a
 * route acts with that issuer's metadata (the scope rewrite uses its {@code scopes_supported} and
 * {@code issuer}).
 *
 * <p>Called on event loops; never blocks. Thread-safe.
 */
public final class RouteTable implements RequestRouter {

    private static final String WELL_KNOWN = "/.well-known/";
    /** Room for the client_ids, redirect_uris and resources of about as many recent clients. */
    private static final int PARAM_CACHE_SLOTS = 1024;
    /** Used when {@code upstream.response-timeout} is 0 (none): the bound of a wait for metadata. */
    private static final Duration UNBOUNDED_RESPONSE_WAIT = Duration.ofSeconds(30);

    /**
     * What requests need of the config and the metadata, derived once per (config, metadata
     * document) pair and swapped as one value, so a reload of {@code endpoints:} or
     * {@code scope.families} applies at once and readers never see half of an update.
     */
    private record Derived(ScopegateConfig config, ServerMetadata metadata, EndpointPaths paths,
                           ClientFamilies families, long learnedVersion, Map<String, Endpoint> learned,
                           Endpoint[] learnedRegistrations) {

        /** The learned issuer endpoint at {@code path}, or null. */
        /* nullable */ Endpoint learnedAt(String path) {
            Endpoint e = learned.get(path);
            if (e != null) {
                return e;
            }
            for (Endpoint r : learnedRegistrations) {
                String p = r.path();
                if (path.startsWith(p) && path.length() > p.length() + 1 && path.charAt(p.length()) == '/') {
                    return new Endpoint(RouteKind.REGISTRATION_MANAGEMENT, p, r.issuer());
                }
            }
            return null;
        }

        /** Every path {@link #classify} compares with is known: from metadata, or all from config. */
        boolean endpointsKnown() {
            ScopegateConfig.Endpoints e = config.endpoints();
            return metadata != null || (e != null && named(e.authorization()) && named(e.par())
                    && named(e.registration()) && named(e.token()));
        }

        private static boolean named(/* nullable */ String endpoint) {
            return endpoint != null && !endpoint.isBlank();
        }
    }

    /** An endpoint of a learned issuer: its kind, path and the issuer's metadata. */
    private record Endpoint(RouteKind kind, String path, ServerMetadata issuer) {}

    private static final Endpoint[] NO_ENDPOINTS = new Endpoint[0];

    private final Supplier<ScopegateConfig> config;
    private final MetadataService metadata;
    private final /* nullable */ LearnedIssuers issuers;
    private final Route authorize;
    private final Route par;
    private final Route registration;
    private final Route registrationManagement;
    private final Route token;
    private final Route serverMetadata;
    private final Route resourceMetadata;
    private final AuthorizationRewrite rewrite;
    private volatile Derived derived;
    /** The wait for the first metadata shared by the requests that arrive before it (one per round). */
    private volatile CompletableFuture<Boolean> endpointWait;

    /**
     * @param issuers the learned issuers ({@code metadata.issuers.learn}), or null when off
     * @param feedback reads the IdP's answers to what the routes change (outcomes, demotions, {@code iss});
     *     its issuer is the configured one's, replaced here by the learned issuer under whose path a request is
     */
    public RouteTable(Supplier<ScopegateConfig> config, MetadataService metadata, /* nullable */ LearnedIssuers issuers,
                      ResourceMetadataCache resources, ScopeNormalizer normalizer, RegistrationRepository registrations,
                      ScopeMetrics metrics, AuditLog audit, Clock clock, PendingScopes pending, RewriteFeedback feedback) {
        this.config = Objects.requireNonNull(config, "config");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.issuers = issuers;
        AuthorizationRewrite rewrite = new AuthorizationRewrite(config, normalizer, this::families, metrics, audit,
                pending, new ParamCache(PARAM_CACHE_SLOTS), this::learnedIssuerOf,
                issuers == null ? feedback : new RewriteFeedback(feedback.metrics(), feedback.demotions(),
                        path -> issuerNameFor(path, feedback.issuer())));
        this.rewrite = rewrite;
        // compat.resource-parameter wraps the endpoints that take RFC 8707 resource parameters
        this.authorize = new ResourceParameterRoute(config, new AuthorizeRoute(config, rewrite), true);
        this.par = new ResourceParameterRoute(config, new ParRoute(config, rewrite), false);
        this.registration = new RegistrationRoute(config, registrations, metrics, audit, clock,
                new RegistrationScopeFill(config, this::issuerFor, this::families, metrics, audit));
        this.registrationManagement = new RegistrationManagementRoute(config, registrations, metrics, audit, clock);
        this.token = new ResourceParameterRoute(config,
                new TokenLearningRoute(config, registrations, pending, metrics, clock), false);
        this.serverMetadata = new MetadataRoute(metadata, issuers, () -> config.get().compat().addIss());
        this.resourceMetadata = new ResourceMetadataRoute(config, metadata, resources);
    }

    @Override
    public RouteKind classify(HttpMethod method, String path) {
        if (path.startsWith(WELL_KNOWN)) {
            if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
                return RouteKind.METADATA;
            }
            return RouteKind.PASS_THROUGH;
        }
        if (path.endsWith("/.well-known/openid-configuration") && method.equals(HttpMethod.GET)) {
            return RouteKind.METADATA;
        }
        Derived d = derived();
        EndpointPaths p = d.paths();
        if (path.equals(p.authorization())) {
            return RouteKind.AUTHORIZE;
        }
        if (path.equals(p.par())) {
            return RouteKind.PAR;
        }
        if (path.equals(p.token())) {
            return RouteKind.TOKEN;
        }
        if (p.registration() != null) {
            if (path.equals(p.registration())) {
                return RouteKind.REGISTRATION;
            }
            if (path.startsWith(p.registration()) && path.length() > p.registration().length() + 1
                    && path.charAt(p.registration().length()) == '/') {
                return RouteKind.REGISTRATION_MANAGEMENT;
            }
        }
        if (d.learned().isEmpty()) {
            return RouteKind.PASS_THROUGH;
        }
        Endpoint learned = d.learnedAt(path);
        return learned == null ? RouteKind.PASS_THROUGH : learned.kind();
    }

    /**
     * The metadata of the issuer whose endpoint {@code path} (without query) is: a learned
     * issuer's when the path is one of its endpoints, else the configured issuer's (null before
     * its first fetch). For routes that act in the name of "the issuer the request addressed"
     * (a {@code compat.add-iss} names it). Never blocks; event loop or any thread.
     */
    public /* nullable */ ServerMetadata issuerFor(String path) {
        ServerMetadata learned = learnedIssuerOf(path);
        return learned != null ? learned : metadata.cachedOrNull();
    }

    /**
     * The issuer {@code compat.add-iss} names for an answer to a request to {@code path}: the learned
     * issuer whose endpoint it is or under whose path it lies (its login and consent steps), the
     * longest such; else {@code configured}'s.
     */
    private /* nullable */ String issuerNameFor(String path, IssuerOf configured) {
        ServerMetadata learned = learnedIssuerOf(path);
        if (learned != null) {
            return learned.issuer();
        }
        String best = null;
        int bestLength = -1;
        for (Map.Entry<String, MetadataService> e : issuers.all().entrySet()) {
            String prefix = e.getKey();
            if (prefix.length() > bestLength && path.startsWith(prefix)
                    && (path.length() == prefix.length() || path.charAt(prefix.length()) == '/')) {
                ServerMetadata m = e.getValue().cachedOrNull();
                if (m != null) {
                    best = m.issuer();
                    bestLength = prefix.length();
                }
            }
        }
        return best != null ? best : configured.issuerFor(path);
    }

    /**
     * The learned issuer whose endpoint {@code target} (a path, or an origin-form URI whose query
     * is ignored) addresses, or null: the configured issuer's, or no endpoint. Allocates nothing
     * while no issuer is learned.
     */
    /* nullable */ ServerMetadata learnedIssuerOf(String target) {
        Derived d = derived();
        if (d.learned().isEmpty()) {
            return null;
        }
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        EndpointPaths p = d.paths();
        if (path.equals(p.authorization()) || path.equals(p.par()) || path.equals(p.token())
                || path.equals(p.registration())) {
            return null; // the configured issuer's endpoints come first, as in classify
        }
        Endpoint e = d.learnedAt(path);
        return e == null ? null : e.issuer();
    }

    @Override
    public Plan plan(HttpRequest request, String path, RouteKind kind) {
        return switch (kind) {
            case AUTHORIZE -> authorize.plan(request, path);
            case PAR -> par.plan(request, path);
            case REGISTRATION -> registration.plan(request, path);
            case REGISTRATION_MANAGEMENT -> registrationManagement.plan(request, path);
            case TOKEN -> token.plan(request, path);
            case METADATA -> path.startsWith(ResourceMetadataRoute.PREFIX)
                    ? resourceMetadata.plan(request, path) : serverMetadata.plan(request, path);
            case PASS_THROUGH -> passThrough(path);
            case EXTRA_ROUTE -> Plan.FORWARD;
        };
    }

    @Override
    public /* nullable */ CompletableFuture<Boolean> endpointsPending() {
        Derived d = derived();
        if (d.endpointsKnown()) {
            return null;
        }
        CompletableFuture<Boolean> w = endpointWait;
        if (w == null || w.isDone()) {
            // Joins the metadata round in flight or starts one now (a replica whose IdP came up
            // after it does not wait for its retry backoff). Bounded like a request to the IdP.
            ScopegateConfig.Upstream u = d.config().upstream();
            Duration response = u.responseTimeout().isZero() ? UNBOUNDED_RESPONSE_WAIT : u.responseTimeout();
            long boundMillis = u.connectTimeout().plus(response).toMillis();
            w = metadata.current().handle((m, e) -> e == null)
                    .completeOnTimeout(false, boundMillis, TimeUnit.MILLISECONDS);
            endpointWait = w;
        }
        return w;
    }

    /**
     * Another request to the IdP: with {@code compat.add-iss}, an authorization response it may
     * resume (the IdP's login or consent step) gets {@code iss}; otherwise untouched.
     */
    private Plan passThrough(String path) {
        ResponseTap iss = rewrite.issElsewhere(path);
        return iss == null ? Plan.FORWARD : new Plan.Forward(iss);
    }

    /** The client families of the current config (metric and audit labels). */
    private ClientFamilies families() {
        return derived().families();
    }

    private Derived derived() {
        ScopegateConfig c = config.get();
        ServerMetadata m = metadata.cachedOrNull();
        Derived d = derived;
        LearnedIssuers li = issuers;
        long version = li == null ? 0 : li.version();
        if (d != null && d.config() == c && d.metadata() == m && d.learnedVersion() == version) {
            return d;
        }
        ClientFamilies families = d != null && d.config() == c ? d.families() : new ClientFamilies(c.scope().families());
        EndpointPaths paths = EndpointPaths.of(m, c.endpoints());
        Map<String, Endpoint> learned = Map.of();
        Endpoint[] registrations = NO_ENDPOINTS;
        if (li != null && li.size() > 0) {
            learned = new HashMap<>();
            List<Endpoint> regs = new ArrayList<>();
            for (MetadataService s : li.all().values()) {
                ServerMetadata im = s.cachedOrNull();
                if (im != null) {
                    index(learned, paths, RouteKind.AUTHORIZE, im.authorizationPath(), im);
                    index(learned, paths, RouteKind.PAR, im.parPath(), im);
                    index(learned, paths, RouteKind.TOKEN, im.tokenPath(), im);
                    if (index(learned, paths, RouteKind.REGISTRATION, im.registrationPath(), im)) {
                        regs.add(learned.get(im.registrationPath()));
                    }
                }
            }
            learned = Map.copyOf(learned);
            registrations = regs.toArray(NO_ENDPOINTS);
        }
        d = new Derived(c, m, paths, families, version, learned, registrations);
        derived = d;
        return d;
    }

    /** Adds a learned issuer's endpoint unless its path is taken (the configured issuer's come first). */
    private static boolean index(Map<String, Endpoint> learned, EndpointPaths configured, RouteKind kind,
                                 /* nullable */ String path, ServerMetadata issuer) {
        if (path == null || path.equals(configured.authorization()) || path.equals(configured.par())
                || path.equals(configured.token()) || path.equals(configured.registration())
                || learned.containsKey(path)) {
            return false;
        }
        learned.put(path, new Endpoint(kind, path, issuer));
        return true;
    }
}
