package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.ParamCache;
import dev.scopegate.oauth.ParamCodec;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.Params;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.RegistrationDocuments;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.EndpointPaths;
import dev.scopegate.oauth.metadata.MetadataService;
import dev.scopegate.oauth.metadata.ServerMetadata;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import dev.scopegate.oauth.scope.ClientFamilies;
import dev.scopegate.oauth.scope.Decision;
import dev.scopegate.oauth.scope.Rejection;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.proxy.ErrorResponder;
import dev.scopegate.store.RegistrationRepository;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Routes requests bound to the IdP: classifies them by the endpoint paths the IdP's metadata
 * names (or config overrides) and turns OAuth decisions into {@link Plan}s — the scope rewrite
 * of authorization and PAR requests, the capture of registrations, scope learning at the token
 * endpoint, and metadata served from the cache. Every other request is forwarded untouched.
 *
 * <p>Called on event loops; never blocks. Thread-safe.
 */
public final class OAuthRouter implements RequestRouter {

    private static final Logger log = LoggerFactory.getLogger(OAuthRouter.class);
    private static final String WELL_KNOWN = "/.well-known/";
    private static final String PROTECTED_RESOURCE = "/.well-known/oauth-protected-resource";
    /** Metric and audit labels, computed once: {@code registered}, {@code client-id-missing} … */
    private static final String[] SOURCE_LABELS = labels(ScopegateConfig.Source.values());
    private static final String[] SKIP_LABELS = labels(Decision.SkipReason.values());
    private static final String PROMPT_CONSENT = "&" + OAuthParams.PROMPT + "=consent";
    /** Room for the client_ids, redirect_uris and resources of about as many recent clients. */
    private static final int PARAM_CACHE_SLOTS = 1024;

    private static String[] labels(Enum<?>[] values) {
        String[] out = new String[values.length];
        for (Enum<?> v : values) {
            out[v.ordinal()] = v.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        return out;
    }

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

    /** Used when {@code upstream.response-timeout} is 0 (none): the bound of a wait for metadata. */
    private static final Duration UNBOUNDED_RESPONSE_WAIT = Duration.ofSeconds(30);

    private final Supplier<ScopegateConfig> config;
    private final MetadataService metadata;
    private final ResourceMetadataCache resources;
    private final ScopeNormalizer normalizer;
    private final RegistrationRepository registrations;
    private final ScopeMetrics metrics;
    private final AuditLog audit;
    private final Clock clock;
    private final PendingScopes pending;
    /** Decoded values and encoded scopes that repeat across requests, shared by the event loops. */
    private final ParamCache values = new ParamCache(PARAM_CACHE_SLOTS);
    private volatile Derived derived;
    /** The wait for the first metadata shared by the requests that arrive before it (one per round). */
    private volatile CompletableFuture<Boolean> endpointWait;

    public OAuthRouter(Supplier<ScopegateConfig> config, MetadataService metadata, ResourceMetadataCache resources,
                       ScopeNormalizer normalizer, RegistrationRepository registrations, ScopeMetrics metrics,
                       AuditLog audit, Clock clock, PendingScopes pending) {
        this.config = Objects.requireNonNull(config, "config");
        this.metadata = Objects.requireNonNull(metadata, "metadata");
        this.resources = Objects.requireNonNull(resources, "resources");
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
        this.registrations = Objects.requireNonNull(registrations, "registrations");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.pending = Objects.requireNonNull(pending, "pending");
    }

    // ---- classification ----

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
        HttpMethod method = request.method();
        switch (kind) {
            case AUTHORIZE:
                if (method.equals(HttpMethod.GET)) {
                    return authorizeGet(request, path);
                }
                if (method.equals(HttpMethod.POST) && isForm(request)) {
                    return new Plan.BufferBody(config.get().limits().maxFormBytes(), formRewriter(kind), null);
                }
                return Plan.FORWARD;
            case PAR:
                if (method.equals(HttpMethod.POST) && isForm(request)) {
                    return new Plan.BufferBody(config.get().limits().maxFormBytes(), formRewriter(kind), null);
                }
                return Plan.FORWARD;
            case REGISTRATION:
                if (method.equals(HttpMethod.POST)) {
                    return registration();
                }
                return Plan.FORWARD;
            case REGISTRATION_MANAGEMENT:
                return registrationManagement(method, path);
            case TOKEN:
                ScopegateConfig.Learn learn = config.get().scope().learn();
                if (method.equals(HttpMethod.POST) && isForm(request) && (learn.token() || learn.authorize())) {
                    return tokenLearning(request);
                }
                return Plan.FORWARD;
            case METADATA:
                return metadataDocument(path);
            default:
                return Plan.FORWARD;
        }
    }

    private static boolean isForm(HttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, "application/x-www-form-urlencoded", 0, 33);
    }

    // ---- authorization and PAR ----

    private Plan authorizeGet(HttpRequest request, String path) {
        String uri = request.uri();
        int q = uri.indexOf('?');
        // The parameters are text[from, end): the URI's own query when the URI is path?query
        // (always, from the frontend), so that the new URI is built in one step.
        String text;
        int from;
        String head; // what precedes the rewritten text in the new URI; null: text is the URI
        if (q == path.length() && uri.startsWith(path)) {
            text = uri;
            from = q + 1;
            head = null;
        } else {
            text = q < 0 ? "" : uri.substring(q + 1);
            from = 0;
            head = path + "?";
        }
        ScopeResolver resolver = normalizer.resolver(); // one snapshot: what is read is what it decides on
        AuthorizationRequest ar = AuthorizationParams.read(text, from, text.length(), true, resolver.readsState(),
                values);
        Decision d = normalizer.decideNow(ar, resolver);
        if (d instanceof Decision.Pending pending) {
            CompletableFuture<Decision> later = pending.decision();
            if (!later.isDone() || later.isCompletedExceptionally()) {
                return new Plan.Defer(later.handle((decided, e) -> {
                    if (e != null) {
                        log.warn("scope decision failed, forwarding unchanged: {}", e.toString());
                        return Plan.FORWARD;
                    }
                    return applyToUri(request, head, text, from, ar, decided);
                }));
            }
            d = later.join();
        }
        return applyToUri(request, head, text, from, ar, d);
    }

    private Plan applyToUri(HttpRequest request, String head, String text, int from, AuthorizationRequest ar,
                            Decision d) {
        if (d instanceof Decision.AddScope add) {
            String scope = added(ar, add, RouteKind.AUTHORIZE);
            if (scope != null) {
                String rewritten = withScope(text, from, ar, scope, values);
                request.setUri(head == null ? rewritten : head + rewritten);
            }
            return Plan.FORWARD;
        }
        Outcome o = outcome(ar, d, RouteKind.AUTHORIZE, text, from);
        if (o.reply() != null) {
            return new Plan.Respond(o.reply());
        }
        return o.tap() == null ? Plan.FORWARD : new Plan.Forward(o.tap());
    }

    private BodyRewriter formRewriter(RouteKind kind) {
        return (head, body) -> {
            String raw = body.toString(StandardCharsets.ISO_8859_1);
            ScopeResolver resolver = normalizer.resolver();
            AuthorizationRequest ar = AuthorizationParams.read(raw, 0, raw.length(), false, resolver.readsState(),
                    values);
            return normalizer.decide(ar, resolver).handle((d, e) -> {
                if (e != null) {
                    log.warn("scope decision failed, forwarding unchanged: {}", e.toString());
                    return BodyRewriter.UNCHANGED;
                }
                if (d instanceof Decision.AddScope add) {
                    String scope = added(ar, add, kind);
                    return scope == null ? BodyRewriter.UNCHANGED : new BodyRewriter.Result.Replace(
                            withScope(raw, 0, ar, scope, values).getBytes(StandardCharsets.ISO_8859_1));
                }
                Outcome o = outcome(ar, d, kind, raw, 0);
                if (o.reply() != null) {
                    return new BodyRewriter.Result.Reply(o.reply());
                }
                return BodyRewriter.UNCHANGED;
            });
        };
    }

    /**
     * {@code text} with the scope added to its parameters {@code text[from, end)} (see
     * {@link AuthorizationParams#withScope}), the scope's encoded form from {@code values};
     * {@code read} is what {@link AuthorizationParams#read} read from them. When the added scope
     * asks for {@code offline_access} and the request has no {@code prompt},
     * {@code prompt=consent} is appended too: OpenID Connect Core §11 has the server ignore
     * {@code offline_access} without it, and clients that send the scope themselves add it (the
     * MCP SDK does), so a reconnect without scope gets the refresh token the first connect got.
     */
    static String withScope(String text, int from, AuthorizationRequest read, String scope, ParamCache values) {
        String encoded = values.encode(scope);
        boolean offline = hasToken(scope, "offline_access");
        if (read.scopeCount() == 0 && !offline) {
            return AuthorizationParams.appendScope(text, from, text.length(), encoded, null);
        }
        AuthorizationParams params = AuthorizationParams.parse(text, from, text.length());
        return params.withScope(encoded, offline && !params.hasPrompt() ? PROMPT_CONSENT : null);
    }

    private static boolean hasToken(String scope, String token) {
        int i = 0;
        while ((i = scope.indexOf(token, i)) >= 0) {
            int end = i + token.length();
            if ((i == 0 || scope.charAt(i - 1) == ' ') && (end == scope.length() || scope.charAt(end) == ' ')) {
                return true;
            }
            i = end;
        }
        return false;
    }

    /** Counts and audits a scope to add; returns it, or null in dry-run. */
    private String added(AuthorizationRequest ar, Decision.AddScope add, RouteKind kind) {
        String family = derived().families().familyOf(ar.redirectUri());
        String source = SOURCE_LABELS[add.source().ordinal()];
        metrics.rewrite(source, family, add.dryRun());
        audit.rewrite(ar.clientId(), family, source, add.scope(), add.dryRun(), kind.label());
        return add.dryRun() ? null : add.scope();
    }

    /** What to do with a decision that adds no scope: a local reply, a tap that learns, or nothing. */
    private record Outcome(FullHttpResponse reply, ResponseTap tap) {}

    private static final Outcome NOTHING = new Outcome(null, null);

    /** {@code text[from, end)}: the parameters {@code ar} was read from. */
    private Outcome outcome(AuthorizationRequest ar, Decision d, RouteKind kind, String text, int from) {
        if (d instanceof Decision.Skip skip) {
            metrics.skip(SKIP_LABELS[skip.reason().ordinal()]);
            return NOTHING;
        }
        if (d instanceof Decision.Unresolved u) {
            String family = derived().families().familyOf(ar.redirectUri());
            String action = u.rejection() == null || u.dryRun() ? "forward" : "reject";
            metrics.unresolved(family, action);
            audit.unresolved(ar.clientId(), family, action, u.dryRun(), kind.label());
            if (u.rejection() == null || u.dryRun()) {
                return NOTHING;
            }
            return new Outcome(rejection(u.rejection()), null);
        }
        if (d instanceof Decision.Unchanged && ar.scope() != null && !ar.scope().isBlank() && ar.clientIdCount() == 1
                && config.get().scope().learn().authorize()) {
            String codeChallenge = AuthorizationParams.first(text, from, text.length(), OAuthParams.CODE_CHALLENGE);
            if (codeChallenge != null) {
                return new Outcome(null, learnFromAuthorize(ar.clientId(), codeChallenge, ar.scope()));
            }
        }
        return NOTHING;
    }

    private static FullHttpResponse rejection(Rejection r) {
        if (r instanceof Rejection.Redirect redirect) {
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.FOUND,
                    Unpooled.EMPTY_BUFFER);
            resp.headers().set(HttpHeaderNames.LOCATION, redirect.location())
                    .set(HttpHeaderNames.CONTENT_LENGTH, 0)
                    .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
            return resp;
        }
        return ErrorResponder.response(HttpResponseStatus.BAD_REQUEST, ((Rejection.Page) r).message());
    }

    /**
     * Remembers the scope a client asked for when the IdP did not reject the request at once (a
     * 2xx login/consent page, or a redirect without {@code error}); it becomes the client's
     * learned scope when the same PKCE flow completes at the token endpoint.
     */
    private ResponseTap learnFromAuthorize(String clientId, String codeChallenge, String scope) {
        return new ResponseTap() {
            @Override
            public int onHead(HttpResponse head) {
                int code = head.status().code();
                boolean accepted = code >= 200 && code < 300;
                if (code >= 300 && code < 400) {
                    String location = head.headers().get(HttpHeaderNames.LOCATION);
                    accepted = location == null || !hasErrorParam(location);
                }
                if (accepted) {
                    pending.remember(clientId, codeChallenge, scope);
                }
                return 0;
            }

            @Override
            public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
                return CompletableFuture.completedFuture(null);
            }
        };
    }

    private static boolean hasErrorParam(String location) {
        int q = location.indexOf('?');
        if (q < 0) {
            return false;
        }
        int hash = location.indexOf('#', q);
        Params p = ParamCodec.parse(location.substring(q + 1, hash < 0 ? location.length() : hash));
        return p.count(OAuthParams.ERROR) > 0;
    }

    // ---- registration (RFC 7591) and management (RFC 7592) ----

    private Plan registration() {
        int cap = config.get().limits().maxCaptureBytes();
        byte[][] requestBody = new byte[1][];
        BodyRewriter keepRequest = (head, body) -> {
            requestBody[0] = ByteBufUtil.getBytes(body);
            return CompletableFuture.completedFuture(BodyRewriter.UNCHANGED);
        };
        ResponseTap capture = new ResponseTap() {
            @Override
            public int onHead(HttpResponse head) {
                int code = head.status().code();
                return code >= 200 && code < 300 && isJson(head) ? cap : 0;
            }

            @Override
            public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
                Optional<Registration> reg = RegistrationDocuments.fromDcrResponse(ByteBufUtil.getBytes(body),
                        requestBody[0], clock.instant());
                if (reg.isEmpty()) {
                    metrics.registration("rejected");
                    log.info("registration response without a usable client_id: not stored");
                    return CompletableFuture.completedFuture(null);
                }
                return registrations.save(reg.get()).whenComplete((v, e) -> {
                    if (e != null) {
                        metrics.registration("failed");
                    } else {
                        metrics.registration("captured");
                        audit.registration("captured", reg.get().clientId());
                    }
                });
            }

            @Override
            public void onOverCap(HttpResponse head) {
                metrics.registration("rejected");
                log.warn("registration response over limits.max-capture-bytes ({}): relayed, not stored", cap);
            }
        };
        return new Plan.BufferBody(cap, keepRequest, capture);
    }

    private Plan registrationManagement(HttpMethod method, String path) {
        String clientId = lastSegment(path);
        if (clientId == null) {
            return Plan.FORWARD;
        }
        int cap = config.get().limits().maxCaptureBytes();
        boolean delete = method.equals(HttpMethod.DELETE);
        if (!delete && !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.PUT)) {
            return Plan.FORWARD;
        }
        return new Plan.Forward(new ResponseTap() {
            @Override
            public int onHead(HttpResponse head) {
                int code = head.status().code();
                if (code < 200 || code >= 300) {
                    return 0;
                }
                return delete || isJson(head) ? cap : 0;
            }

            @Override
            public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
                if (delete) {
                    return registrations.remove(clientId).thenAccept(existed -> {
                        metrics.registration("deleted");
                        audit.registration("deleted", clientId);
                    });
                }
                Optional<Registration> reg = RegistrationDocuments.fromDcrResponse(ByteBufUtil.getBytes(body), null,
                        clock.instant());
                if (reg.isEmpty() || !reg.get().clientId().equals(clientId)) {
                    metrics.registration("rejected");
                    return CompletableFuture.completedFuture(null);
                }
                return registrations.find(clientId).thenCompose(old ->
                        registrations.save(reg.get().mergedInto(old.orElse(null)))).thenRun(() -> {
                    metrics.registration("updated");
                    audit.registration("updated", clientId);
                });
            }
        });
    }

    private static String lastSegment(String path) {
        int slash = path.lastIndexOf('/');
        if (slash < 0 || slash == path.length() - 1) {
            return null;
        }
        try {
            return URLDecoder.decode(path.substring(slash + 1).replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean isJson(HttpResponse head) {
        String type = head.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null) {
            return false;
        }
        String t = type.toLowerCase(Locale.ROOT);
        return t.startsWith("application/json") || (t.startsWith("application/") && t.contains("+json"));
    }

    // ---- token endpoint: learn the granted scope ----

    private Plan tokenLearning(HttpRequest request) {
        String[] clientId = {basicClientId(request.headers().get(HttpHeaderNames.AUTHORIZATION))};
        String[] verifier = {null};
        BodyRewriter readClientId = (head, body) -> {
            Params p = ParamCodec.parse(body.toString(StandardCharsets.ISO_8859_1));
            if (clientId[0] == null && p.count(OAuthParams.CLIENT_ID) == 1) {
                clientId[0] = p.first(OAuthParams.CLIENT_ID);
            }
            if ("authorization_code".equals(p.first(OAuthParams.GRANT_TYPE)) && p.count(OAuthParams.CODE_VERIFIER) == 1) {
                verifier[0] = p.first(OAuthParams.CODE_VERIFIER);
            }
            return CompletableFuture.completedFuture(BodyRewriter.UNCHANGED);
        };
        int cap = config.get().limits().maxCaptureBytes();
        ResponseTap learn = new ResponseTap() {
            @Override
            public int onHead(HttpResponse head) {
                return clientId[0] != null && head.status().code() == 200 && isJson(head) ? cap : 0;
            }

            @Override
            public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
                // RFC 6749 §5.1: a response without scope granted what was requested
                ScopegateConfig.Learn learn = config.get().scope().learn();
                String requested = learn.authorize() ? pending.confirm(clientId[0], verifier[0]) : null;
                String granted = learn.token() ? RegistrationDocuments.grantedScope(ByteBufUtil.getBytes(body)) : null;
                // What the client asked for is what a reconnect should ask for again: the granted
                // scope may be narrowed (to a resource's scopes, say) and lose offline_access.
                String scope = requested != null ? requested : granted;
                if (scope != null && !scope.isBlank()) {
                    registrations.learn(clientId[0], scope, clock.instant()).whenComplete((v, e) -> {
                        if (e == null) {
                            metrics.learned("token");
                        }
                    });
                }
                return CompletableFuture.completedFuture(null); // never delay a token for learning
            }
        };
        return new Plan.BufferBody(config.get().limits().maxFormBytes(), readClientId, learn);
    }

    /** The client_id of HTTP Basic client authentication (RFC 6749 §2.3.1: form-encoded then base64). */
    static String basicClientId(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            if (colon <= 0) {
                return null;
            }
            return URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // ---- metadata ----

    private Plan metadataDocument(String path) {
        if (path.startsWith(PROTECTED_RESOURCE)) {
            ServerMetadata m = metadata.cachedOrNull();
            ScopegateConfig c = config.get();
            String issuer = m != null ? m.issuer() : c.publicBaseUrl() == null ? null : c.publicBaseUrl().toString();
            Optional<byte[]> doc = issuer == null ? Optional.empty() : resources.publishedDocument(path, issuer);
            return doc.<Plan>map(bytes -> new Plan.Respond(json(HttpResponseStatus.OK, bytes, "application/json")))
                    .orElse(Plan.FORWARD);
        }
        if (!metadata.servesPath(path)) {
            return Plan.FORWARD; // not a document scopegate serves
        }
        Optional<MetadataService.Served> served = metadata.documentFor(path);
        if (served.isPresent() && served.get().status() != 503) {
            return new Plan.Respond(toResponse(served.get()));
        }
        // nothing cached yet: one fetch, shared by every request waiting for it
        return new Plan.Defer(metadata.documentForAsync(path).handle((doc, e) -> {
            if (e != null || doc.isEmpty() || doc.get().status() == 503) {
                return new Plan.Respond(ErrorResponder.response(HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "Service Unavailable: authorization server metadata not available yet"));
            }
            return new Plan.Respond(toResponse(doc.get()));
        }));
    }

    private static FullHttpResponse toResponse(MetadataService.Served s) {
        return json(HttpResponseStatus.valueOf(s.status()), s.body(), s.contentType());
    }

    private static FullHttpResponse json(HttpResponseStatus status, byte[] body, String contentType) {
        FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        resp.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType == null ? "application/json" : contentType)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "public, max-age=300");
        return resp;
    }
}
