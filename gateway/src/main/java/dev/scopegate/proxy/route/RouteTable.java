package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.ParamCache;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.EndpointPaths;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.metadata.ServerMetadata;
import dev.scopegate.oauth.scope.ClientFamilies;
import dev.scopegate.store.RegistrationRepository;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

import java.time.Clock;
import java.time.Duration;
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
                           ClientFamilies families) {

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

    private final Supplier<ScopegateConfig> config;
    private final MetadataService metadata;
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

    public RouteTable(Supplier<ScopegateConfig> config, MetadataService metadata, ResourceMetadataCache resources,
                      ScopeNormalizer normalizer, RegistrationRepository registrations, ScopeMetrics metrics,
                      AuditLog audit, Clock clock, PendingScopes pending) {
        this(config, metadata, resources, normalizer, registrations, metrics, audit, clock, pending,
                RewriteFeedback.detached());
    }

    /** @param feedback reads the IdP's answers to what the routes change (outcomes, demotions, {@code iss}) */
    public RouteTable(Supplier<ScopegateConfig> config, MetadataService metadata, ResourceMetadataCache resources,
                      ScopeNormalizer normalizer, RegistrationRepository registrations, ScopeMetrics metrics,
                      AuditLog audit, Clock clock, PendingScopes pending, RewriteFeedback feedback) {
        this.config = Objects.requireNonNull(config, "config");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        AuthorizationRewrite rewrite = new AuthorizationRewrite(config, normalizer, this::families, metrics, audit,
                pending, new ParamCache(PARAM_CACHE_SLOTS), feedback);
        this.rewrite = rewrite;
        this.authorize = new AuthorizeRoute(config, rewrite);
        this.par = new ParRoute(config, rewrite);
        this.registration = new RegistrationRoute(config, registrations, metrics, audit, clock);
        this.registrationManagement = new RegistrationManagementRoute(config, registrations, metrics, audit, clock);
        this.token = new TokenLearningRoute(config, registrations, pending, metrics, clock);
        this.serverMetadata = new MetadataRoute(metadata, () -> config.get().compat().addIss());
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
        EndpointPaths p = derived().paths();
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
        return RouteKind.PASS_THROUGH;
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
        if (d != null && d.config() == c && d.metadata() == m) {
            return d;
        }
        ClientFamilies families = d != null && d.config() == c ? d.families() : new ClientFamilies(c.scope().families());
        d = new Derived(c, m, EndpointPaths.of(m, c.endpoints()), families);
        derived = d;
        return d;
    }
}
