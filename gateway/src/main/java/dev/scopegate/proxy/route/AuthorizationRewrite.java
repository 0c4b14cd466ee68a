package dev.scopegate.proxy.route;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.ScopeMetrics;
import dev.scopegate.oauth.AuditLog;
import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.OAuthParams;
import dev.scopegate.oauth.ParamCache;
import dev.scopegate.oauth.PendingScopes;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.metadata.ServerMetadata;
import dev.scopegate.oauth.scope.AuthorizationRequest;
import dev.scopegate.oauth.scope.ClientFamilies;
import dev.scopegate.oauth.scope.Decision;
import dev.scopegate.oauth.scope.PromptPolicy;
import dev.scopegate.oauth.scope.Rejection;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.proxy.ErrorResponder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The scope rewrite that authorization requests ({@link AuthorizeRoute}: query or form) and
 * pushed authorization requests ({@link ParRoute}) share: read the parameters, ask the
 * {@link ScopeNormalizer} for a {@link Decision}, and act on it — append the scope (and the
 * decision's {@code prompt} when the request names none), count and audit it, answer a
 * rejection, or watch the response to learn the scope a client asked for.
 *
 * <p>Called on event loops; never blocks. Thread-safe.
 */
final class AuthorizationRewrite {

    private static final Logger log = LoggerFactory.getLogger(AuthorizationRewrite.class);
    /** Metric and audit labels, computed once: {@code registered}, {@code client-id-missing} … */
    private static final String[] SOURCE_LABELS = labels(ScopegateConfig.Source.values());
    private static final String[] SKIP_LABELS = labels(Decision.SkipReason.values());
    private static final String PROMPT_CONSENT = "&" + OAuthParams.PROMPT + "=" + PromptPolicy.CONSENT;

    private static String[] labels(Enum<?>[] values) {
        String[] out = new String[values.length];
        for (Enum<?> v : values) {
            out[v.ordinal()] = v.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        return out;
    }

    private final Supplier<ScopegateConfig> config;
    private final ScopeNormalizer normalizer;
    private final Supplier<ClientFamilies> families;
    private final ScopeMetrics metrics;
    private final AuditLog audit;
    private final PendingScopes pending;
    /** Decoded values and encoded scopes that repeat across requests, shared by the event loops. */
    private final ParamCache values;
    /** The learned issuer whose endpoint a request target addresses; null: the configured issuer. */
    private final Function<String, ServerMetadata> issuerOf;
    /** Reads the IdP's answers to rewritten requests (counts them, demotes rejected scopes). */
    private final RewriteOutcomes outcomes;
    /** {@code compat.add-iss}. */
    private final AddIss iss;

    /**
     * @param issuerOf the learned issuer ({@code metadata.issuers}) whose endpoint a request
     *     target (a path, or an origin-form URI) addresses, or null for the configured issuer:
     *     its metadata are the server facts of the decision
     * @param feedback reads the IdP's answers to rewritten requests (outcomes, demotions, {@code iss})
     */
    AuthorizationRewrite(Supplier<ScopegateConfig> config, ScopeNormalizer normalizer,
                         Supplier<ClientFamilies> families, ScopeMetrics metrics, AuditLog audit,
                         PendingScopes pending, ParamCache values, Function<String, ServerMetadata> issuerOf,
                         RewriteFeedback feedback) {
        this.issuerOf = Objects.requireNonNull(issuerOf, "issuerOf");
        this.outcomes = new RewriteOutcomes(feedback.metrics(), feedback.demotions(), audit);
        this.iss = new AddIss(feedback.issuer(), feedback.metrics(), com.github.benmanes.caffeine.cache.Ticker.systemTicker());
        this.config = Objects.requireNonNull(config, "config");
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
        this.families = Objects.requireNonNull(families, "families");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.pending = Objects.requireNonNull(pending, "pending");
        this.values = Objects.requireNonNull(values, "values");
    }

    /** The plan for a query-string authorization request (GET): its URI is rewritten in place. */
    Plan query(HttpRequest request, String path) {
        String uri = request.uri();
        int q = uri.indexOf('?');
        // The parameters are text[from, end): the URI's own query when the URI is path?query
        // (always, from the frontend), so that the new URI is built in one step. Locals, not a
        // record: nothing is allocated per request on this path but the new URI.
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
        if (config.get().compat().addIss()) {
            iss.remember(ar.redirectUri());
        }
        Decision d = normalizer.decideNow(ar, resolver, issuerOf.apply(path));
        if (d instanceof Decision.Pending pendingDecision) {
            CompletableFuture<Decision> later = pendingDecision.decision();
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

    private Plan applyToUri(HttpRequest request, /* nullable */ String head, String text, int from,
                            AuthorizationRequest ar, Decision d) {
        if (d instanceof Decision.AddScope add) {
            String scope = added(ar, add, RouteKind.AUTHORIZE);
            if (scope != null) {
                String rewritten = withScope(text, from, ar, scope, add.prompt(), values);
                request.setUri(head == null ? rewritten : head + rewritten);
                return new Plan.Forward(outcomeTap(RouteKind.AUTHORIZE, ar, add, text, from));
            }
            return Plan.FORWARD;
        }
        if (d instanceof Decision.AddAlways always) {
            if (addedAlways(ar, always, RouteKind.AUTHORIZE)) {
                String rewritten = withAlways(text, from, always, values);
                request.setUri(head == null ? rewritten : head + rewritten);
                return new Plan.Forward(alwaysTap(RouteKind.AUTHORIZE, ar, text, from));
            }
            return Plan.FORWARD;
        }
        Outcome o = outcome(ar, d, RouteKind.AUTHORIZE, text, from);
        if (o.reply() != null) {
            return new Plan.Respond(o.reply());
        }
        return o.tap() == null ? Plan.FORWARD : new Plan.Forward(o.tap());
    }

    /** The rewriter of form-encoded requests to the endpoint {@code kind} (authorization or PAR). */
    BodyRewriter form(RouteKind kind) {
        return new FormRewriter(kind);
    }

    private final class FormRewriter implements BodyRewriter {
        private final RouteKind kind;

        FormRewriter(RouteKind kind) {
            this.kind = Objects.requireNonNull(kind, "kind");
        }

        @Override
        public CompletionStage<Result> onBody(HttpRequest head, ByteBuf body) {
            String raw = body.toString(StandardCharsets.ISO_8859_1);
            ScopeResolver resolver = normalizer.resolver();
            AuthorizationRequest ar = AuthorizationParams.read(raw, 0, raw.length(), false, resolver.readsState(),
                    values);
            if (config.get().compat().addIss()) {
                iss.remember(ar.redirectUri());
            }
            ServerMetadata server = head == null ? null : issuerOf.apply(head.uri());
            return normalizer.decide(ar, resolver, server).handle((d, e) -> {
                if (e != null) {
                    log.warn("scope decision failed, forwarding unchanged: {}", e.toString());
                    return BodyRewriter.UNCHANGED;
                }
                if (d instanceof Decision.AddScope add) {
                    String scope = added(ar, add, kind);
                    return scope == null ? BodyRewriter.UNCHANGED : new BodyRewriter.Result.Replace(
                            withScope(raw, 0, ar, scope, add.prompt(), values).getBytes(StandardCharsets.ISO_8859_1),
                            outcomeTap(kind, ar, add, raw, 0));
                }
                if (d instanceof Decision.AddAlways always) {
                    return !addedAlways(ar, always, kind) ? BodyRewriter.UNCHANGED : new BodyRewriter.Result.Replace(
                            withAlways(raw, 0, always, values).getBytes(StandardCharsets.ISO_8859_1),
                            alwaysTap(kind, ar, raw, 0));
                }
                Outcome o = outcome(ar, d, kind, raw, 0);
                if (o.reply() != null) {
                    return new BodyRewriter.Result.Reply(kind == RouteKind.AUTHORIZE && head != null
                            ? withIss(o.reply(), pathOf(head.uri())) : o.reply());
                }
                return BodyRewriter.UNCHANGED;
            });
        }
    }

    /**
     * {@code text} with the scope added to its parameters {@code text[from, end)} (see
     * {@link AuthorizationParams#withScope}), the scope's encoded form from {@code values};
     * {@code read} is what {@link AuthorizationParams#read} read from them. {@code prompt}
     * (nullable: the decision's, see {@link PromptPolicy}) is appended too when the parameters
     * name no {@code prompt}; one the client chose is left as it is.
     */
    static String withScope(String text, int from, AuthorizationRequest read, String scope,
                            /* nullable */ String prompt, ParamCache values) {
        String encoded = values.encode(scope);
        if (read.scopeCount() == 0 && prompt == null) {
            return AuthorizationParams.appendScope(text, from, text.length(), encoded, null);
        }
        AuthorizationParams params = AuthorizationParams.parse(text, from, text.length());
        return params.withScope(encoded, prompt == null || params.hasPrompt() ? null : promptParam(prompt));
    }

    /**
     * {@code text} with its parameters' (from {@code from} to the end) own {@code scope} value
     * extended by the decision's {@code added} scopes ({@code scope.add-always}) and its
     * {@code prompt} appended when they name none.
     */
    static String withAlways(String text, int from, Decision.AddAlways always, ParamCache values) {
        AuthorizationParams params = AuthorizationParams.parse(text, from, text.length());
        String prompt = always.prompt() == null || params.hasPrompt() ? null : promptParam(always.prompt());
        return params.withScopeExtended(values.encode(always.added()), prompt);
    }

    /** Counts and audits a {@code scope.add-always} extension; false in dry-run (forward unchanged). */
    private boolean addedAlways(AuthorizationRequest ar, Decision.AddAlways always, RouteKind kind) {
        String family = families.get().familyOf(ar.redirectUri());
        outcomes.addAlways(family);
        audit.addAlways(ar.clientId(), family, always.added(), always.dryRun(), kind.label());
        return !always.dryRun();
    }

    /** The tap that reads the IdP's answer to a request given {@code add}'s scope. */
    private ResponseTap outcomeTap(RouteKind kind, AuthorizationRequest ar, Decision.AddScope add, String text,
                                   int from) {
        return outcomes.tap(kind, ar.clientId(), add.source(), SOURCE_LABELS[add.source().ordinal()],
                families.get().familyOf(ar.redirectUri()), add.scope(), ar.redirectUri(), text, from);
    }

    /** The tap of a request extended by {@code scope.add-always}: counted, never demoted. */
    private ResponseTap alwaysTap(RouteKind kind, AuthorizationRequest ar, String text, int from) {
        return outcomes.tap(kind, ar.clientId(), null, RewriteOutcomes.ADD_ALWAYS,
                families.get().familyOf(ar.redirectUri()), ar.scope(), ar.redirectUri(), text, from);
    }

    /**
     * {@code plan} of a request to the authorization endpoint at {@code path}, given
     * {@code compat.add-iss}: its taps then add {@code iss} to the IdP's answer, and a local
     * error redirect gets it too. Unchanged when the key is off.
     */
    Plan withIss(Plan plan, String path) {
        if (!config.get().compat().addIss()) {
            return plan;
        }
        if (plan instanceof Plan.Forward f) {
            return new Plan.Forward(iss.atAuthorizationEndpoint(path, f.tap()));
        }
        if (plan instanceof Plan.Respond r) {
            iss.amend(r.response(), path, true);
            return r;
        }
        if (plan instanceof Plan.Defer d) {
            return new Plan.Defer(d.plan().thenApply(p -> withIss(p, path)));
        }
        return plan;
    }

    /** The tap of a form request to the authorization endpoint at {@code path}: adds {@code iss} when on, else null. */
    /* nullable */ ResponseTap issTap(String path) {
        return config.get().compat().addIss() ? iss.atAuthorizationEndpoint(path, null) : null;
    }

    /** The tap of a request to another IdP path: adds {@code iss} to a resumed authorization response, else null. */
    /* nullable */ ResponseTap issElsewhere(String path) {
        return config.get().compat().addIss() ? iss.elsewhere(path) : null;
    }

    /** A local reply to a form request at {@code path}: an error redirect gets {@code iss} when on. */
    FullHttpResponse withIss(FullHttpResponse reply, String path) {
        if (config.get().compat().addIss()) {
            iss.amend(reply, path, true);
        }
        return reply;
    }

    private static String pathOf(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    private static String promptParam(String prompt) {
        return PromptPolicy.CONSENT.equals(prompt) ? PROMPT_CONSENT : "&" + OAuthParams.PROMPT + "=" + prompt;
    }

    /** Counts and audits a scope to add; returns it, or null in dry-run. */
    private String added(AuthorizationRequest ar, Decision.AddScope add, RouteKind kind) {
        String family = families.get().familyOf(ar.redirectUri());
        String source = SOURCE_LABELS[add.source().ordinal()];
        metrics.rewrite(source, family, add.dryRun());
        audit.rewrite(ar.clientId(), family, source, add.scope(), add.dryRun(), kind.label());
        return add.dryRun() ? null : add.scope();
    }

    /** What to do with a decision that adds no scope: a local reply, a tap that learns, or nothing. */
    private record Outcome(/* nullable */ FullHttpResponse reply, /* nullable */ ResponseTap tap) {}

    private static final Outcome NOTHING = new Outcome(null, null);

    /** {@code text[from, end)}: the parameters {@code ar} was read from. */
    private Outcome outcome(AuthorizationRequest ar, Decision d, RouteKind kind, String text, int from) {
        if (d instanceof Decision.Skip skip) {
            metrics.skip(SKIP_LABELS[skip.reason().ordinal()]);
            return NOTHING;
        }
        if (d instanceof Decision.Unresolved u) {
            String family = families.get().familyOf(ar.redirectUri());
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
                return new Outcome(null, new AuthorizeLearningTap(pending, ar.clientId(), codeChallenge, ar.scope()));
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
}
