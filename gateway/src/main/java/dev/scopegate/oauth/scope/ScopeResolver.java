package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.config.ScopegateConfig.OnUnresolved;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.config.ScopegateConfig.Trigger;
import dev.scopegate.model.Registration;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Decides whether and how to add {@code scope} to an authorization request (DESIGN §3): the
 * never-rewrite checks, the trigger, the configured chain of sources with the policy applied to
 * each candidate, and the unresolved outcome. Pure: it does no I/O. When a source needs a fact the
 * caller has not gathered yet, {@link #decide} answers {@link Decision.NeedFacts} naming every fact
 * the rest of the chain could need, so that one round of fetching suffices; a source that resolves
 * before that point (a client named in {@code scope.clients}) costs no lookup at all.
 *
 * <p>Built from one config snapshot; a reload builds a new resolver. Its answers depend on nothing
 * else; safe for any thread, including event loops: {@link #decide} allocates nothing but its
 * result, and usually not even that (results are constants, or remembered while they repeat).
 */
public final class ScopeResolver {

    private static final String ERROR = "invalid_scope";
    private static final String DESCRIPTION = "no scope was requested and none is known for this client";

    private static final int REGISTRATION = 1;
    private static final int RESOURCE_METADATA = 2;
    private static final int DOCUMENT = 4;
    /** Indexed by a bit mask of the three facts above. */
    private static final Decision.NeedFacts[] NEED = new Decision.NeedFacts[8];

    static {
        for (int mask = 1; mask < NEED.length; mask++) {
            NEED[mask] = new Decision.NeedFacts(facts(mask));
        }
    }

    private static final Decision.Unchanged SCOPE_PRESENT = new Decision.Unchanged(Decision.Reason.SCOPE_PRESENT);
    private static final Decision.Unchanged SCOPE_EMPTY = new Decision.Unchanged(Decision.Reason.SCOPE_EMPTY);
    private static final Decision.Skip[] SKIPS = new Decision.Skip[Decision.SkipReason.values().length];

    static {
        for (Decision.SkipReason r : Decision.SkipReason.values()) {
            SKIPS[r.ordinal()] = new Decision.Skip(r);
        }
    }

    private final Source[] sources;
    private final Trigger trigger;
    private final String defaultScope;
    private final Map<String, String> clients;
    private final ClientFamilies families;
    private final ScopePolicy policy;
    private final boolean reject;
    private final boolean dryRun;
    private final PromptPolicy prompt;
    private final Decision.Unresolved forward;
    private final Decision.Unresolved noRedirectUri;
    private final Decision.Unresolved unregisteredRedirectUri;
    /**
     * Recent {@link Decision.AddScope}s, so that the requests of a client whose scope is cached
     * share one: direct-mapped by scope, racy by design (records are immutable), a collision only
     * costs a new record.
     */
    private final Decision.AddScope[] added = new Decision.AddScope[256];
    /** {@code scope.add-always} joined by spaces, before the policy; null when empty. */
    private final String addAlways;
    private final ScopeDemotions demotions;

    public ScopeResolver(ScopegateConfig.Scope config) {
        this(config, ScopeDemotions.NONE);
    }

    /**
     * @param demotions the candidates the IdP rejected, read at each decision (they outlive this
     *                  resolver: a reload builds a new one around the same demotions)
     */
    public ScopeResolver(ScopegateConfig.Scope config, ScopeDemotions demotions) {
        Objects.requireNonNull(config, "config");
        this.demotions = Objects.requireNonNull(demotions, "demotions");
        this.addAlways = config.addAlways().isEmpty() ? null : String.join(" ", config.addAlways());
        this.sources = config.sources().toArray(new Source[0]);
        this.trigger = Objects.requireNonNull(config.trigger(), "trigger");
        this.defaultScope = config.defaultScope();
        this.clients = config.clients();
        this.families = new ClientFamilies(config.families());
        this.policy = new ScopePolicy(config.deny(), config.onlySupported(), config.acceptCommas());
        this.reject = Objects.requireNonNull(config.onUnresolved(), "onUnresolved") == OnUnresolved.REJECT;
        this.dryRun = config.dryRun();
        this.prompt = new PromptPolicy(config.offlineAccessPrompt());
        this.forward = new Decision.Unresolved(null, dryRun);
        this.noRedirectUri = new Decision.Unresolved(new Rejection.Page(
                ERROR + ": " + DESCRIPTION + ", and the request names no redirect_uri to return the error to."),
                dryRun);
        this.unregisteredRedirectUri = new Decision.Unresolved(new Rejection.Page(
                ERROR + ": " + DESCRIPTION + ", and its redirect_uri is not one the client registered."),
                dryRun);
    }

    /** The decision for {@code request} given what the caller has gathered so far. */
    public Decision decide(AuthorizationRequest request, Facts facts) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(facts, "facts");
        Decision early = precheck(request);
        if (early != null) {
            return early == SCOPE_PRESENT && addAlways != null ? addAlways(request, facts) : early;
        }
        for (int i = 0; i < sources.length; i++) {
            Source source = sources[i];
            if (missing(source, request, facts) != 0) {
                return needFacts(i, request, facts);
            }
            String candidate = candidate(source, request, facts);
            if (candidate != null) {
                String scope = policy.apply(candidate, facts.scopesSupported(), null);
                if (scope != null) {
                    scope = withAlways(scope, facts);
                    if (!demoted(request, source, scope)) {
                        return addScope(scope, source);
                    }
                }
            }
        }
        return unresolved(request, facts);
    }

    /**
     * {@code new AddScope(scope, source, dryRun, prompt)}, or an equal one made before (the prompt
     * depends on the scope alone).
     */
    private Decision.AddScope addScope(String scope, Source source) {
        int h = scope.hashCode() * 31 + source.ordinal();
        int slot = (h ^ h >>> 16) & (added.length - 1);
        Decision.AddScope e = added[slot];
        if (e != null && e.source() == source && (e.scope() == scope || e.scope().equals(scope))) {
            return e;
        }
        e = new Decision.AddScope(scope, source, dryRun, prompt.promptFor(scope));
        added[slot] = e;
        return e;
    }

    /**
     * The whole chain for {@code request}, for {@code /admin/explain}: unlike {@link #decide} it
     * evaluates every source, records the policy's cuts, and allocates freely.
     */
    public Explanation explain(AuthorizationRequest request, Facts facts) {
        Decision decision = decide(request, facts);
        boolean settled = precheck(request) != null;
        Source winner = null;
        String scope = null;
        List<Explanation.Step> chain = new ArrayList<>(sources.length);
        for (Source source : sources) {
            boolean reached = !settled;
            if (!applicable(source, request)) {
                chain.add(new Explanation.Step(source, Explanation.Status.NOT_APPLICABLE, reached, null,
                        List.of(), null, Set.of()));
                continue;
            }
            int missing = missing(source, request, facts);
            if (missing != 0) {
                chain.add(new Explanation.Step(source, Explanation.Status.FACT_MISSING, reached, null,
                        List.of(), null, facts(missing)));
                settled = true;
                continue;
            }
            String candidate = candidate(source, request, facts);
            if (candidate == null) {
                chain.add(new Explanation.Step(source, Explanation.Status.NO_CANDIDATE, reached, null,
                        List.of(), null, Set.of()));
                continue;
            }
            List<Explanation.Cut> cuts = new ArrayList<>();
            String result = policy.apply(candidate, facts.scopesSupported(), cuts);
            Explanation.Status status;
            if (result != null) {
                result = withAlways(result, facts);
            }
            if (result == null) {
                status = Explanation.Status.EMPTY_AFTER_POLICY;
            } else if (demoted(request, source, result)) {
                status = Explanation.Status.DEMOTED;
            } else if (!settled) {
                status = Explanation.Status.WON;
                winner = source;
                scope = result;
                settled = true;
            } else {
                status = Explanation.Status.YIELDS;
            }
            chain.add(new Explanation.Step(source, status, reached, candidate, cuts, result, Set.of()));
        }
        return new Explanation(request.clientId(), request.redirectUri(), request.resource(),
                families.familyOf(request.redirectUri()), chain, winner, scope,
                decision.getClass().getSimpleName(), decision);
    }

    /** Whether this exact candidate was demoted for this client ({@link ScopeDemotions}). */
    private boolean demoted(AuthorizationRequest r, Source source, String scope) {
        return demotions != ScopeDemotions.NONE && demotions.isDemoted(r.clientId(), source, scope);
    }

    /**
     * {@code scope} plus the {@code scope.add-always} scopes it lacks (those the policy lets
     * through: {@code deny} and {@code only-supported} apply to them too), space-separated.
     */
    private String withAlways(String scope, Facts facts) {
        if (addAlways == null) {
            return scope;
        }
        String extra = missingAlways(scope, facts);
        return extra == null ? scope : scope + " " + extra;
    }

    /** The {@code scope.add-always} scopes, after the policy, that {@code have} lacks; null when none. */
    private String missingAlways(String have, Facts facts) {
        String allowed = policy.apply(addAlways, facts.scopesSupported(), null);
        if (allowed == null) {
            return null;
        }
        StringBuilder extra = null;
        for (String token : allowed.split(" ")) {
            if (!ScopeTokens.contains(have, token)) {
                extra = extra == null ? new StringBuilder(token) : extra.append(' ').append(token);
            }
        }
        return extra == null ? null : extra.toString();
    }

    /** {@code scope.add-always} for a request with a scope of its own: extend it when it lacks some. */
    private Decision addAlways(AuthorizationRequest r, Facts facts) {
        String own = r.scope().strip();
        String extra = missingAlways(own, facts);
        if (extra == null) {
            return SCOPE_PRESENT;
        }
        return new Decision.AddAlways(extra, own + " " + extra, dryRun, prompt.promptFor(extra));
    }

    /**
     * Whether {@link #decide} ever reads {@link AuthorizationRequest#state()}: only with
     * {@code on-unresolved: reject}, for the error redirect. Otherwise a caller may leave it null.
     */
    public boolean readsState() {
        return reject;
    }

    /** The never-rewrite checks, then the trigger; null when the chain must run. */
    private Decision precheck(AuthorizationRequest r) {
        if (r.malformed()) {
            return SKIPS[Decision.SkipReason.MALFORMED.ordinal()];
        }
        if (r.clientIdCount() > 1) {
            return SKIPS[Decision.SkipReason.CLIENT_ID_REPEATED.ordinal()];
        }
        if (r.clientIdCount() == 0 || r.clientId() == null || r.clientId().isEmpty()) {
            return SKIPS[Decision.SkipReason.CLIENT_ID_MISSING.ordinal()];
        }
        if (r.scopeCount() > 1) {
            return SKIPS[Decision.SkipReason.SCOPE_REPEATED.ordinal()];
        }
        if (r.hasRequestObject()) {
            return SKIPS[Decision.SkipReason.REQUEST_OBJECT.ordinal()];
        }
        if (r.hasRequestUri() && r.isGet()) {
            return SKIPS[Decision.SkipReason.REQUEST_URI_ON_GET.ordinal()];
        }
        if (r.scopeCount() == 0) {
            return null;
        }
        if (r.scope() != null && !r.scope().isBlank()) {
            return SCOPE_PRESENT;
        }
        return trigger == Trigger.MISSING ? SCOPE_EMPTY : null;
    }

    private static boolean applicable(Source source, AuthorizationRequest r) {
        switch (source) {
            case DOCUMENT: return isHttpsUrl(r.clientId());
            case RESOURCE: return hasResource(r);
            default: return true;
        }
    }

    /** The facts {@code source} needs and lacks, as a bit mask. */
    private static int missing(Source source, AuthorizationRequest r, Facts f) {
        switch (source) {
            case REGISTERED:
            case LEARNED:
                return f.registrationLookedUp() ? 0 : REGISTRATION;
            case DOCUMENT:
                return !f.documentLookedUp() && isHttpsUrl(r.clientId()) ? DOCUMENT : 0;
            case RESOURCE:
                return !f.resourceLookedUp() && hasResource(r) ? RESOURCE_METADATA : 0;
            default:
                return 0;
        }
    }

    /** The raw candidate of {@code source}, or null; its facts are present. */
    private String candidate(Source source, AuthorizationRequest r, Facts f) {
        switch (source) {
            case CLIENT: {
                String configured = clients.get(r.clientId());
                if (configured != null) {
                    return configured;
                }
                ScopegateConfig.Family family = families.find(r.redirectUri());
                return family == null ? null : family.scope();
            }
            case REGISTERED: {
                Registration reg = registration(r, f);
                return reg == null ? null : reg.scope();
            }
            case LEARNED: {
                Registration reg = registration(r, f);
                return reg == null ? null : reg.learnedScope();
            }
            case DOCUMENT:
                return isHttpsUrl(r.clientId()) ? f.documentScope() : null;
            case RESOURCE:
                return hasResource(r) ? join(f.resourceScopes()) : null;
            case SERVER:
                return join(f.scopesSupported());
            case DEFAULT:
                return defaultScope;
            default:
                throw new AssertionError(source);
        }
    }

    /**
     * The registration, only if it is this request's client's: a caller's mix-up must never lend
     * one client another's scopes or redirect URIs.
     */
    private static Registration registration(AuthorizationRequest r, Facts f) {
        Registration reg = f.registration();
        return reg != null && reg.clientId().equals(r.clientId()) ? reg : null;
    }

    private Decision needFacts(int from, AuthorizationRequest r, Facts f) {
        int mask = 0;
        for (int i = from; i < sources.length; i++) {
            mask |= missing(sources[i], r, f);
        }
        if (reject && hasRedirectUri(r) && !f.registrationLookedUp()) {
            mask |= REGISTRATION; // the reject redirect checks the registered redirect_uris
        }
        return NEED[mask];
    }

    private Decision unresolved(AuthorizationRequest r, Facts f) {
        if (!reject) {
            return forward;
        }
        if (!hasRedirectUri(r)) {
            return noRedirectUri;
        }
        if (!f.registrationLookedUp()) {
            return NEED[REGISTRATION];
        }
        Registration reg = registration(r, f);
        String redirectUri = r.redirectUri();
        // Exact string match against what the IdP accepted at registration: never an open redirect.
        if (reg == null || !reg.redirectUris().contains(redirectUri) || !ErrorRedirects.redirectable(redirectUri)) {
            return unregisteredRedirectUri;
        }
        String iss = f.issParameterSupported() ? f.issuer() : null;
        return new Decision.Unresolved(ErrorRedirects.redirect(redirectUri, ERROR, DESCRIPTION, r.state(), iss),
                dryRun);
    }

    private static boolean hasRedirectUri(AuthorizationRequest r) {
        return r.redirectUri() != null && !r.redirectUri().isEmpty();
    }

    private static boolean hasResource(AuthorizationRequest r) {
        return r.resource() != null && !r.resource().isEmpty();
    }

    /** A Client ID Metadata Document URL: {@code https} with a plain host. */
    static boolean isHttpsUrl(String clientId) {
        return clientId != null && clientId.regionMatches(true, 0, "https://", 0, 8)
                && ClientFamilies.hostRange(clientId) >= 0;
    }

    private static String join(List<String> scopes) {
        if (scopes == null || scopes.isEmpty()) {
            return null;
        }
        return scopes.size() == 1 ? scopes.get(0) : String.join(" ", scopes);
    }

    private static Set<Fact> facts(int mask) {
        Set<Fact> set = EnumSet.noneOf(Fact.class);
        if ((mask & REGISTRATION) != 0) {
            set.add(Fact.REGISTRATION);
        }
        if ((mask & RESOURCE_METADATA) != 0) {
            set.add(Fact.RESOURCE_METADATA);
        }
        if ((mask & DOCUMENT) != 0) {
            set.add(Fact.DOCUMENT);
        }
        return set;
    }
}
