package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.config.ScopegateConfig.Family;
import dev.scopegate.config.ScopegateConfig.OnUnresolved;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.config.ScopegateConfig.Trigger;
import dev.scopegate.model.Registration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Invariants of {@link ScopeResolver} over random configs, requests and facts. */
class ScopeResolverProperties {

    static final String A = "client-a";
    static final String B = "client-b";
    static final String CIMD = "https://app.example/client.json";
    static final List<String> PIECES = List.of("read", "write", "admin", "admin:all", "mcp:tools", "x", "xy",
            "offline_access", "caf\u00e9", "q\"", "a-b", " ", "  ", ",", ", ", "\t", "\n");
    static final List<String> DENY = List.of("admin", "admin:*", "*:all", "x*", "*", "w*e", "*o*", "nope", "");
    static final List<String> SUPPORTED = List.of("read", "write", "admin:all", "mcp:tools", "x", "a-b");
    static final List<String> REDIRECTS = List.of(Fixtures.CHATGPT_REDIRECT, "https://claude.ai/cb",
            "https://a.example/cb?x=1", "javascript:alert(1)", "https://evil.example/cb");

    @Property(tries = 800, edgeCases = EdgeCasesMode.NONE)
    void addScopeNeverCarriesADeniedUnsupportedInvalidOrRepeatedScope(
            @ForAll("configs") ScopegateConfig.Scope config, @ForAll("requests") AuthorizationRequest request,
            @ForAll("facts") Facts facts) {
        Decision d = new ScopeResolver(config).decide(request, facts);
        Statistics.label("decision").collect(d.getClass().getSimpleName());
        if (!(d instanceof Decision.AddScope)) {
            return;
        }
        String scope = ((Decision.AddScope) d).scope();

        assertThat(scope).isNotEmpty().doesNotStartWith(" ").doesNotEndWith(" ").doesNotContain("  ");
        List<String> tokens = Arrays.asList(scope.split(" "));
        assertThat(new HashSet<>(tokens)).hasSameSizeAs(tokens);
        List<Pattern> deny = config.deny().stream().filter(p -> !p.isBlank()).map(ScopeResolverProperties::glob)
                .collect(Collectors.toList());
        List<String> supported = facts.scopesSupported();
        for (String t : tokens) {
            assertThat(t).matches("[\\x21\\x23-\\x5B\\x5D-\\x7E]+");
            assertThat(deny).noneMatch(p -> p.matcher(t).matches());
            if (config.onlySupported() && supported != null && !supported.isEmpty()) {
                assertThat(supported).contains(t);
            }
            if (!config.acceptCommas()) {
                continue;
            }
            assertThat(t).doesNotContain(",");
        }
    }

    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void anotherClientsRegistrationNeverLeaksIntoTheDecision(
            @ForAll("configs") ScopegateConfig.Scope config, @ForAll("requests") AuthorizationRequest request,
            @ForAll("facts") Facts facts, @ForAll("registrations") Registration other) {
        Assume.that(!other.clientId().equals(request.clientId()));
        ScopeResolver r = new ScopeResolver(config);
        assertThat(r.decide(request, facts.withRegistration(other)))
                .isEqualTo(r.decide(request, facts.withRegistration(null)));
    }

    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void ownRegistrationFeedsOnlyItsOwnScopesAndRedirectUris(
            @ForAll("configs") ScopegateConfig.Scope config, @ForAll("requests") AuthorizationRequest request,
            @ForAll("facts") Facts facts, @ForAll("registrations") Registration generated) {
        Registration own = new Registration(request.clientId(), generated.scope(), generated.redirectUris(),
                List.of(), null, null, generated.learnedScope(), Fixtures.T0, Fixtures.T0);
        Decision d = new ScopeResolver(config).decide(request, facts.withRegistration(own));
        if (d instanceof Decision.AddScope) {
            Decision.AddScope add = (Decision.AddScope) d;
            if (add.source() == Source.REGISTERED) {
                assertThat(tokensOf(own.scope())).containsAll(tokensOf(add.scope()));
            } else if (add.source() == Source.LEARNED) {
                assertThat(tokensOf(own.learnedScope())).containsAll(tokensOf(add.scope()));
            }
        }
        if (d instanceof Decision.Unresolved && ((Decision.Unresolved) d).rejection() instanceof Rejection.Redirect) {
            String location = ((Rejection.Redirect) ((Decision.Unresolved) d).rejection()).location();
            assertThat(own.redirectUris()).contains(request.redirectUri());
            assertThat(location).startsWith(request.redirectUri());
        }
    }

    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void asksForFactsOnceAndNeverForOnesAlreadyLookedUp(
            @ForAll("configs") ScopegateConfig.Scope config, @ForAll("requests") AuthorizationRequest request,
            @ForAll("facts") Facts facts) {
        ScopeResolver r = new ScopeResolver(config);
        Decision d = r.decide(request, facts);
        if (!(d instanceof Decision.NeedFacts)) {
            return;
        }
        Facts f = facts;
        for (Fact fact : ((Decision.NeedFacts) d).facts()) {
            assertThat(facts.lookedUp(fact)).isFalse();
            switch (fact) {
                case REGISTRATION: f = f.withRegistration(null); break;
                case RESOURCE_METADATA: f = f.withResourceScopes(List.of("read")); break;
                case DOCUMENT: f = f.withDocumentScope("write"); break;
                default: throw new AssertionError(fact);
            }
        }
        assertThat(r.decide(request, f)).isNotInstanceOf(Decision.NeedFacts.class);
    }

    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void explainAgreesWithDecide(
            @ForAll("configs") ScopegateConfig.Scope config, @ForAll("requests") AuthorizationRequest request,
            @ForAll("facts") Facts facts) {
        ScopeResolver r = new ScopeResolver(config);
        Decision d = r.decide(request, facts);
        Explanation e = r.explain(request, facts);
        assertThat(e.decision()).isEqualTo(d);
        assertThat(e.chain()).hasSize(config.sources().size());
        if (d instanceof Decision.AddScope) {
            assertThat(e.winner()).isEqualTo(((Decision.AddScope) d).source());
            assertThat(e.scope()).isEqualTo(((Decision.AddScope) d).scope());
        } else {
            assertThat(e.winner()).isNull();
            assertThat(e.chain()).noneMatch(s -> s.status() == Explanation.Status.WON);
        }
    }

    static Set<String> tokensOf(String scope) {
        return scope == null ? Set.of() : Arrays.stream(scope.split("[\\s,]+", -1))
                .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }

    /** An independent reading of a deny entry: {@code *} is any run of characters. */
    static Pattern glob(String deny) {
        String p = deny.strip();
        return Pattern.compile(Arrays.stream(p.split("\\*", -1)).map(Pattern::quote)
                .collect(Collectors.joining(".*")));
    }

    @Provide
    Arbitrary<String> scopes() {
        return Arbitraries.of(PIECES).list().ofMaxSize(8).map(l -> String.join("", l));
    }

    @Provide
    Arbitrary<ScopegateConfig.Scope> configs() {
        Arbitrary<List<Source>> sources = Arbitraries.of(Source.class).list().uniqueElements().ofMaxSize(7);
        Arbitrary<List<String>> deny = Arbitraries.of(DENY).list().ofMaxSize(3);
        Arbitrary<Boolean> bool = Arbitraries.of(true, false);
        Arbitrary<Map<String, String>> clients = Arbitraries.oneOf(Arbitraries.just(Map.of()),
                scopes().map(s -> Map.of(A, s)));
        Arbitrary<List<Family>> families = Arbitraries.oneOf(Arbitraries.just(List.of()),
                scopes().injectNull(0.3).map(s -> List.of(new Family("chatgpt", List.of("*.chatgpt.com",
                        "chatgpt.com"), s))));
        Arbitrary<Object[]> modes = Combinators.combine(Arbitraries.of(Trigger.class),
                Arbitraries.of(OnUnresolved.class), bool).as((t, u, dry) -> new Object[] {t, u, dry});
        return Combinators.combine(sources, deny, bool, bool, scopes(), clients, families, modes)
                .as((src, d, only, commas, def, cl, fam, m) -> new ScopegateConfig.Scope((Trigger) m[0], src, def,
                        d, List.of(), only, commas, (OnUnresolved) m[1],
                        ScopegateConfig.OfflineAccessPrompt.CONSENT, (Boolean) m[2], cl, fam,
                        new ScopegateConfig.Learn(true, true),
                        new ScopegateConfig.Document(false, 65536, Duration.ofSeconds(5)), false));
    }

    @Provide
    Arbitrary<Registration> registrations() {
        return Combinators.combine(Arbitraries.of(A, B, CIMD), scopes().injectNull(0.2), scopes().injectNull(0.3),
                Arbitraries.of(REDIRECTS).list().ofMaxSize(2))
                .as((id, s, l, uris) -> new Registration(id, s, uris, List.of(), null, null, l, Fixtures.T0,
                        Fixtures.T0));
    }

    @Provide
    Arbitrary<AuthorizationRequest> requests() {
        Arbitrary<String> clientId = Arbitraries.of(A, B, CIMD);
        Arbitrary<Integer> scopeCount = Arbitraries.frequency(
                Tuple.of(12, 0), Tuple.of(6, 1), Tuple.of(1, 2));
        Arbitrary<String> scope = Arbitraries.of("", " ", "read", ",");
        Arbitrary<String> redirect = Arbitraries.of(REDIRECTS).injectNull(0.1);
        Arbitrary<String> resource = Arbitraries.of("https://my-domain/mcp").injectNull(0.5);
        Arbitrary<Boolean> rare = Arbitraries.frequency(Tuple.of(24, false), Tuple.of(1, true));
        Arbitrary<String> state = Arbitraries.of("st", "s t&=\u00e9").injectNull(0.2);
        Arbitrary<Boolean[]> flags = Combinators.combine(rare, rare, Arbitraries.of(true, false), rare)
                .as((obj, uri, get, bad) -> new Boolean[] {obj, uri, get, bad});
        return Combinators.combine(clientId, scopeCount, scope, redirect, resource, state, flags)
                .as((id, n, s, ru, res, st, fl) -> new AuthorizationRequest(1, id, n, n == 0 ? null : s, ru, res,
                        fl[0], fl[1], fl[2], fl[3], st));
    }

    @Provide
    Arbitrary<Facts> facts() {
        Arbitrary<Boolean> bool = Arbitraries.of(true, false);
        Arbitrary<List<String>> supported = Arbitraries.of(SUPPORTED).list().ofMaxSize(4).injectNull(0.4);
        Arbitrary<Facts> base = Combinators.combine(registrations().injectNull(0.3), bool, supported,
                Arbitraries.of("https://my-domain/oauth").injectNull(0.3), bool,
                Arbitraries.of(PIECES).list().ofMaxSize(3).injectNull(0.3), bool, scopes().injectNull(0.3))
                .as((reg, regLooked, sup, iss, issSup, res, resLooked, doc) -> new Facts(reg, regLooked, sup, iss,
                        issSup, res, resLooked, doc, false));
        return Combinators.combine(base, bool).as((f, docLooked) -> docLooked ? f.withDocumentScope(f.documentScope())
                : f);
    }
}
