package dev.scopegate.oauth.scope;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scopegate.config.ScopegateConfig.Family;
import dev.scopegate.config.ScopegateConfig.OfflineAccessPrompt;
import dev.scopegate.config.ScopegateConfig.Source;
import dev.scopegate.config.ScopegateConfig.Trigger;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.scope.Decision.AddScope;
import dev.scopegate.oauth.scope.Decision.NeedFacts;
import dev.scopegate.oauth.scope.Decision.Skip;
import dev.scopegate.oauth.scope.Decision.SkipReason;
import dev.scopegate.oauth.scope.Decision.Unchanged;
import dev.scopegate.oauth.scope.Decision.Unresolved;
import dev.scopegate.oauth.scope.Explanation.CutReason;
import dev.scopegate.oauth.scope.Explanation.Status;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.scopegate.oauth.scope.Fixtures.CHATGPT_REDIRECT;
import static dev.scopegate.oauth.scope.Fixtures.cfg;
import static dev.scopegate.oauth.scope.Fixtures.reg;
import static dev.scopegate.oauth.scope.Fixtures.req;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScopeResolverTest {

    static final String SEED_SCOPE = "worker:read time-off:read time-off:write contracts:read people:read";
    static final Facts ALL_LOOKED_UP = Facts.none().withRegistration(null).withResourceScopes(null)
            .withDocumentScope(null);

    static AddScope add(String scope, Source source) {
        return new AddScope(scope, source, false, null);
    }

    /** Runs the caller's loop: decide, fetch what is asked from the "world", decide again. */
    static final class Loop {
        final ScopeResolver resolver;
        Registration registration;
        List<String> resourceScopes;
        String documentScope;
        final List<Set<Fact>> rounds = new ArrayList<>();

        Loop(ScopeResolver resolver) {
            this.resolver = resolver;
        }

        Decision run(AuthorizationRequest r, Facts start) {
            Facts f = start;
            for (int i = 0; i < 5; i++) {
                Decision d = resolver.decide(r, f);
                if (!(d instanceof NeedFacts)) {
                    return d;
                }
                Set<Fact> need = ((NeedFacts) d).facts();
                rounds.add(need);
                for (Fact fact : need) {
                    assertThat(f.lookedUp(fact)).as("asked again for %s", fact).isFalse();
                    switch (fact) {
                        case REGISTRATION: f = f.withRegistration(registration); break;
                        case RESOURCE_METADATA: f = f.withResourceScopes(resourceScopes); break;
                        case DOCUMENT: f = f.withDocumentScope(documentScope); break;
                        default: throw new AssertionError(fact);
                    }
                }
            }
            throw new AssertionError("no decision after 5 rounds");
        }
    }

    @Nested
    class EachSourceAlone {

        @Test
        void seedScenario2ReconnectGetsTheRegisteredScope() {
            ScopeResolver r = cfg().resolver();
            Loop loop = new Loop(r);
            loop.registration = reg("811703c8-c50a-4a49-a119-0035430610cd", SEED_SCOPE, null, CHATGPT_REDIRECT);
            AuthorizationRequest request = req().clientId("811703c8-c50a-4a49-a119-0035430610cd")
                    .resource("https://my-domain/mcp").build();

            assertThat(loop.run(request, Facts.none())).isEqualTo(add(SEED_SCOPE, Source.REGISTERED));
            assertThat(loop.rounds).containsExactly(EnumSet.of(Fact.REGISTRATION, Fact.RESOURCE_METADATA));
        }

        @Test
        void clientFromConfiguredClients() {
            ScopeResolver r = cfg().sources(Source.CLIENT).clients(Map.of("c1", "a b")).resolver();
            assertThat(r.decide(req().build(), Facts.none())).isEqualTo(add("a b", Source.CLIENT));
            assertThat(r.decide(req().clientId("c2").build(), Facts.none())).isEqualTo(new Unresolved(null, false));
        }

        @Test
        void clientFromFamilyByRedirectHost() {
            ScopeResolver r = cfg().sources(Source.CLIENT).families(
                    new Family("chatgpt", List.of("chatgpt.com", "*.chatgpt.com"), "mcp:read"),
                    new Family("claude", List.of("claude.ai"), "mcp:write")).resolver();

            assertThat(r.decide(req().build(), Facts.none())).isEqualTo(add("mcp:read", Source.CLIENT));
            assertThat(r.decide(req().redirectUri("https://eu.ChatGPT.com/cb").build(), Facts.none()))
                    .isEqualTo(add("mcp:read", Source.CLIENT));
            assertThat(r.decide(req().redirectUri("https://CLAUDE.ai:443/api/mcp/auth_callback").build(),
                    Facts.none())).isEqualTo(add("mcp:write", Source.CLIENT));
            assertThat(r.decide(req().redirectUri("https://evilchatgpt.com/cb").build(), Facts.none()))
                    .isInstanceOf(Unresolved.class);
            assertThat(r.decide(req().redirectUri(null).build(), Facts.none())).isInstanceOf(Unresolved.class);
        }

        @Test
        void configuredClientWinsOverFamily() {
            ScopeResolver r = cfg().sources(Source.CLIENT).clients(Map.of("c1", "own"))
                    .families(new Family("chatgpt", List.of("chatgpt.com"), "family")).resolver();
            assertThat(r.decide(req().build(), Facts.none())).isEqualTo(add("own", Source.CLIENT));
        }

        @Test
        void firstMatchingFamilyDecidesEvenWithoutScope() {
            // a family is a metric label first: the client belongs to the first that matches
            ScopeResolver r = cfg().sources(Source.CLIENT).families(
                    new Family("label-only", List.of("chatgpt.com"), null),
                    new Family("later", List.of("chatgpt.com"), "later")).resolver();
            assertThat(r.decide(req().build(), Facts.none())).isInstanceOf(Unresolved.class);
        }

        @Test
        void registered() {
            ScopeResolver r = cfg().sources(Source.REGISTERED).resolver();
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", "a b", "l")))).isEqualTo(
                    add("a b", Source.REGISTERED));
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", null, "l"))))
                    .isInstanceOf(Unresolved.class);
        }

        @Test
        void learned() {
            ScopeResolver r = cfg().sources(Source.LEARNED).resolver();
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", "a", "l1 l2"))))
                    .isEqualTo(add("l1 l2", Source.LEARNED));
            assertThat(r.decide(req().build(), Facts.none().withRegistration(
                    Registration.learnedOnly("c1", "x", Fixtures.T0)))).isEqualTo(add("x", Source.LEARNED));
        }

        @Test
        void documentOnlyForHttpsClientIds() {
            ScopeResolver r = cfg().sources(Source.DOCUMENT).resolver();
            AuthorizationRequest cimd = req().clientId("https://app.example.com/client.json").build();
            assertThat(r.decide(cimd, Facts.none())).isEqualTo(new NeedFacts(Set.of(Fact.DOCUMENT)));
            assertThat(r.decide(cimd, Facts.none().withDocumentScope("d1 d2"))).isEqualTo(add("d1 d2", Source.DOCUMENT));
            assertThat(r.decide(cimd, Facts.none().withDocumentScope(null))).isInstanceOf(Unresolved.class);

            for (String id : List.of("c1", "http://app.example.com/client.json", "https://", "https:///x",
                    "https://bad host/")) {
                AuthorizationRequest plain = req().clientId(id).build();
                assertThat(r.decide(plain, Facts.none())).as(id).isInstanceOf(Unresolved.class);
                assertThat(r.decide(plain, Facts.none().withDocumentScope("d"))).as(id).isInstanceOf(Unresolved.class);
            }
        }

        @Test
        void resourceOnlyWithResourceParameter() {
            ScopeResolver r = cfg().sources(Source.RESOURCE).resolver();
            AuthorizationRequest withResource = req().resource("https://my-domain/mcp").build();
            assertThat(r.decide(withResource, Facts.none())).isEqualTo(new NeedFacts(Set.of(Fact.RESOURCE_METADATA)));
            assertThat(r.decide(withResource, Facts.none().withResourceScopes(List.of("r1", "r2"))))
                    .isEqualTo(add("r1 r2", Source.RESOURCE));
            assertThat(r.decide(withResource, Facts.none().withResourceScopes(null))).isInstanceOf(Unresolved.class);
            assertThat(r.decide(withResource, Facts.none().withResourceScopes(List.of()))).isInstanceOf(Unresolved.class);

            assertThat(r.decide(req().build(), Facts.none())).isInstanceOf(Unresolved.class);
            assertThat(r.decide(req().resource("").build(), Facts.none())).isInstanceOf(Unresolved.class);
            assertThat(r.decide(req().build(), Facts.none().withResourceScopes(List.of("r1"))))
                    .isInstanceOf(Unresolved.class);
        }

        @Test
        void server() {
            ScopeResolver r = cfg().sources(Source.SERVER).resolver();
            assertThat(r.decide(req().build(), Facts.none().withServer(List.of("s1", "s2"), null, false)))
                    .isEqualTo(add("s1 s2", Source.SERVER));
            assertThat(r.decide(req().build(), Facts.none())).isInstanceOf(Unresolved.class);
        }

        @Test
        void defaultScope() {
            assertThat(cfg().sources(Source.DEFAULT).defaultScope("openid  profile").resolver()
                    .decide(req().build(), Facts.none())).isEqualTo(add("openid profile", Source.DEFAULT));
            assertThat(cfg().sources(Source.DEFAULT).defaultScope("  ").resolver()
                    .decide(req().build(), Facts.none())).isInstanceOf(Unresolved.class);
            assertThat(cfg().sources(Source.DEFAULT).defaultScope(null).resolver()
                    .decide(req().build(), Facts.none())).isInstanceOf(Unresolved.class);
        }

        @Test
        void noSourcesAtAll() {
            assertThat(cfg().sources().resolver().decide(req().build(), Facts.none()))
                    .isEqualTo(new Unresolved(null, false));
        }
    }

    @Nested
    class Order {

        final Facts everything = Facts.none()
                .withRegistration(reg("https://app.example/c", "reg", "lrn"))
                .withDocumentScope("doc")
                .withResourceScopes(List.of("res"))
                .withServer(null, null, false);
        final AuthorizationRequest request = req().clientId("https://app.example/c").resource("https://rs").build();

        @Test
        void firstNonEmptySourceWinsInConfiguredOrder() {
            Map<String, String> clients = Map.of("https://app.example/c", "cli");
            List<Source> all = List.of(Source.CLIENT, Source.REGISTERED, Source.LEARNED, Source.DOCUMENT,
                    Source.RESOURCE, Source.DEFAULT);
            List<String> expected = List.of("cli", "reg", "lrn", "doc", "res", "def");
            for (int i = 0; i < all.size(); i++) {
                Source[] tail = all.subList(i, all.size()).toArray(new Source[0]);
                ScopeResolver r = cfg().sources(tail).clients(clients).defaultScope("def").resolver();
                assertThat(r.decide(request, everything)).isEqualTo(add(expected.get(i), all.get(i)));
            }
        }

        @Test
        void reversedOrder() {
            ScopeResolver r = cfg().sources(Source.DEFAULT, Source.LEARNED, Source.REGISTERED)
                    .defaultScope("def").resolver();
            assertThat(r.decide(request, everything)).isEqualTo(add("def", Source.DEFAULT));
            r = cfg().sources(Source.LEARNED, Source.REGISTERED).resolver();
            assertThat(r.decide(request, everything)).isEqualTo(add("lrn", Source.LEARNED));
        }

        @Test
        void emptyAfterPolicyFallsThroughToNextSource() {
            ScopeResolver r = cfg().sources(Source.REGISTERED, Source.LEARNED, Source.DEFAULT)
                    .deny("reg", "lrn").defaultScope("def").resolver();
            assertThat(r.decide(request, everything)).isEqualTo(add("def", Source.DEFAULT));
        }
    }

    @Nested
    class NeedFactsBehaviour {

        final AuthorizationRequest cimdWithResource = req().clientId("https://app.example/c")
                .resource("https://rs").build();

        @Test
        void asksForEverythingTheChainCouldNeedInOneRound() {
            Loop loop = new Loop(cfg().defaultScope("def").resolver());
            assertThat(loop.run(cimdWithResource, Facts.none())).isEqualTo(add("def", Source.DEFAULT));
            assertThat(loop.rounds).containsExactly(
                    EnumSet.of(Fact.REGISTRATION, Fact.DOCUMENT, Fact.RESOURCE_METADATA));
        }

        @Test
        void asksOnceThenDecides() {
            Loop loop = new Loop(cfg().resolver());
            loop.documentScope = "doc";
            assertThat(loop.run(cimdWithResource, Facts.none())).isEqualTo(add("doc", Source.DOCUMENT));
            assertThat(loop.rounds).hasSize(1);
        }

        @Test
        void asksNothingWhenClientResolves() {
            ScopeResolver r = cfg().clients(Map.of("https://app.example/c", "cli")).reject().resolver();
            assertThat(r.decide(cimdWithResource, Facts.none())).isEqualTo(add("cli", Source.CLIENT));
            ScopeResolver fam = cfg().families(new Family("chatgpt", List.of("chatgpt.com"), "fam")).resolver();
            assertThat(fam.decide(cimdWithResource, Facts.none())).isEqualTo(add("fam", Source.CLIENT));
        }

        @Test
        void neverAsksForFactsOfSourcesBeforeAWinnerOrOutsideTheChain() {
            ScopeResolver r = cfg().sources(Source.CLIENT, Source.DEFAULT, Source.REGISTERED)
                    .defaultScope("def").resolver();
            assertThat(r.decide(cimdWithResource, Facts.none())).isEqualTo(add("def", Source.DEFAULT));
            ScopeResolver noFacts = cfg().sources(Source.CLIENT, Source.SERVER, Source.DEFAULT).resolver();
            assertThat(noFacts.decide(cimdWithResource, Facts.none())).isEqualTo(new Unresolved(null, false));
        }

        @Test
        void asksOnlyForFactsOfTheRemainingChain() {
            ScopeResolver r = cfg().sources(Source.DOCUMENT, Source.DEFAULT, Source.REGISTERED).resolver();
            assertThat(r.decide(cimdWithResource, Facts.none()))
                    .isEqualTo(new NeedFacts(Set.of(Fact.DOCUMENT, Fact.REGISTRATION)));
            assertThat(r.decide(cimdWithResource, Facts.none().withDocumentScope(null)))
                    .isEqualTo(new NeedFacts(Set.of(Fact.REGISTRATION)));
        }

        @Test
        void notApplicableSourcesNeedNothing() {
            ScopeResolver r = cfg().sources(Source.DOCUMENT, Source.RESOURCE, Source.DEFAULT).defaultScope("d")
                    .resolver();
            assertThat(r.decide(req().build(), Facts.none())).isEqualTo(add("d", Source.DEFAULT));
        }

        @Test
        void lookedUpButNotFoundIsNotAskedAgain() {
            ScopeResolver r = cfg().resolver();
            assertThat(r.decide(cimdWithResource, ALL_LOOKED_UP)).isEqualTo(new Unresolved(null, false));
        }

        @Test
        void rejectAlsoAsksForTheRegistrationToCheckRedirectUris() {
            ScopeResolver r = cfg().sources(Source.CLIENT, Source.DOCUMENT).reject().resolver();
            assertThat(r.decide(cimdWithResource, Facts.none()))
                    .isEqualTo(new NeedFacts(Set.of(Fact.DOCUMENT, Fact.REGISTRATION)));
            ScopeResolver clientOnly = cfg().sources(Source.CLIENT).reject().resolver();
            assertThat(clientOnly.decide(req().build(), Facts.none()))
                    .isEqualTo(new NeedFacts(Set.of(Fact.REGISTRATION)));
            // no redirect_uri: the answer is a page whatever is registered, so nothing to ask
            assertThat(clientOnly.decide(req().redirectUri(null).build(), Facts.none()).getClass())
                    .isEqualTo(Unresolved.class);
        }

        @Test
        void needFactsIsNeverEmptyAndReadsInEnumOrder() {
            assertThatThrownBy(() -> new NeedFacts(Set.of())).isInstanceOf(IllegalArgumentException.class);
            assertThat(new NeedFacts(Set.of(Fact.DOCUMENT, Fact.REGISTRATION)).facts())
                    .containsExactly(Fact.REGISTRATION, Fact.DOCUMENT);
        }
    }

    @Nested
    class Policy {

        Decision decide(ScopeResolver r, String candidate, List<String> supported) {
            return r.decide(req().build(), Facts.none().withServer(supported, null, false)
                    .withRegistration(reg("c1", candidate, null)));
        }

        ScopeResolver registered(Fixtures.Cfg c) {
            return c.sources(Source.REGISTERED).resolver();
        }

        @Test
        void denyExact() {
            ScopeResolver r = registered(cfg().deny("admin", " offline_access "));
            assertThat(decide(r, "read admin offline_access write", null)).isEqualTo(add("read write", Source.REGISTERED));
            assertThat(decide(r, "Admin administrator", null)).as("case-sensitive, whole token")
                    .isEqualTo(add("Admin administrator", Source.REGISTERED));
        }

        @Test
        void denyGlobs() {
            ScopeResolver r = registered(cfg().deny("admin:*", "*:delete", "a*b*c", ""));
            assertThat(decide(r, "admin:read admin: x:delete :delete abc aXXbYYc ab ac cab read admin", null))
                    .isEqualTo(add("ab ac cab read admin", Source.REGISTERED));
            ScopeResolver all = registered(cfg().deny("*"));
            assertThat(decide(all, "a b", null)).isInstanceOf(Unresolved.class);
            ScopeResolver middle = registered(cfg().deny("a*a"));
            assertThat(decide(middle, "a aa aba", null)).isEqualTo(add("a", Source.REGISTERED));
        }

        @Test
        void onlySupportedWithKnownList() {
            ScopeResolver r = registered(cfg());
            assertThat(decide(r, "a b c", List.of("c", "a"))).isEqualTo(add("a c", Source.REGISTERED));
            assertThat(decide(r, "x y", List.of("a"))).isInstanceOf(Unresolved.class);
        }

        @Test
        void onlySupportedWithUnknownListKeepsEverything() {
            ScopeResolver r = registered(cfg());
            assertThat(decide(r, "a b", null)).isEqualTo(add("a b", Source.REGISTERED));
            assertThat(decide(r, "a b", List.of())).as("an empty list says nothing")
                    .isEqualTo(add("a b", Source.REGISTERED));
        }

        @Test
        void onlySupportedOff() {
            ScopeResolver r = registered(cfg().onlySupported(false));
            assertThat(decide(r, "a b", List.of("a"))).isEqualTo(add("a b", Source.REGISTERED));
        }

        @Test
        void dedupeKeepsFirstOrder() {
            ScopeResolver r = registered(cfg());
            assertThat(decide(r, "b a b c a", null)).isEqualTo(add("b a c", Source.REGISTERED));
            StringBuilder many = new StringBuilder();
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                many.append("s").append(i).append(' ').append("s").append(i / 2).append(' ');
                if (i > 0) {
                    expected.append(' ');
                }
                expected.append("s").append(i);
            }
            assertThat(decide(r, many.toString(), null)).isEqualTo(add(expected.toString(), Source.REGISTERED));
        }

        @Test
        void commasOnAndOff() {
            assertThat(decide(registered(cfg()), "a,b, c,,a", null)).isEqualTo(add("a b c", Source.REGISTERED));
            assertThat(decide(registered(cfg().acceptCommas(false)), "a,b c", null))
                    .isEqualTo(add("a,b c", Source.REGISTERED));
            assertThat(decide(registered(cfg()), ", ,", null)).isInstanceOf(Unresolved.class);
        }

        @Test
        void whitespaceIsNormalized() {
            ScopeResolver r = registered(cfg());
            assertThat(decide(r, "  a\tb\r\n  c  ", null)).isEqualTo(add("a b c", Source.REGISTERED));
            assertThat(decide(r, " \t ", null)).isInstanceOf(Unresolved.class);
            assertThat(decide(r, "", null)).isInstanceOf(Unresolved.class);
        }

        @Test
        void tokensThatAreNotScopeTokensAreDropped() {
            ScopeResolver r = registered(cfg());
            assertThat(decide(r, "ok \"q\" back\\slash caf\u00e9 ctl\u0001 ok2", null))
                    .isEqualTo(add("ok ok2", Source.REGISTERED));
        }

        @Test
        void aCleanCandidateIsReturnedAsIs() {
            String candidate = new String("a b:c d");
            AddScope d = (AddScope) decide(registered(cfg()), candidate, List.of("a", "b:c", "d"));
            assertThat(d.scope()).isSameAs(candidate);
            String trailing = "a b ";
            assertThat(((AddScope) decide(registered(cfg()), trailing, null)).scope()).isEqualTo("a b");
        }

        @Test
        void policyAppliesToEverySource() {
            ScopeResolver r = cfg().sources(Source.CLIENT, Source.DEFAULT).clients(Map.of("c1", "secret,,admin"))
                    .deny("admin", "secret").defaultScope("read admin").resolver();
            assertThat(r.decide(req().build(), Facts.none())).isEqualTo(add("read", Source.DEFAULT));
        }
    }

    @Nested
    class NeverRewrite {

        final ScopeResolver r = cfg().clients(Map.of("c1", "a")).resolver();

        Decision decide(Fixtures.Req b) {
            return r.decide(b.build(), Facts.none());
        }

        @Test
        void eachReason() {
            assertThat(decide(req().clientId(null))).isEqualTo(new Skip(SkipReason.CLIENT_ID_MISSING));
            assertThat(decide(req().clientId(""))).isEqualTo(new Skip(SkipReason.CLIENT_ID_MISSING));
            assertThat(decide(req().clientIdCount(2))).isEqualTo(new Skip(SkipReason.CLIENT_ID_REPEATED));
            assertThat(decide(req().scopeCount(2))).isEqualTo(new Skip(SkipReason.SCOPE_REPEATED));
            assertThat(decide(req().scope("").scopeCount(2))).isEqualTo(new Skip(SkipReason.SCOPE_REPEATED));
            assertThat(decide(req().requestObject())).isEqualTo(new Skip(SkipReason.REQUEST_OBJECT));
            assertThat(decide(req().requestObject().post())).isEqualTo(new Skip(SkipReason.REQUEST_OBJECT));
            assertThat(decide(req().requestUri())).isEqualTo(new Skip(SkipReason.REQUEST_URI_ON_GET));
            assertThat(decide(req().malformed())).isEqualTo(new Skip(SkipReason.MALFORMED));
        }

        @Test
        void malformedIsCheckedFirst() {
            assertThat(decide(req().malformed().clientId(null).scopeCount(3).requestObject()))
                    .isEqualTo(new Skip(SkipReason.MALFORMED));
        }

        @Test
        void neverRewriteComesBeforeTheTrigger() {
            assertThat(decide(req().scope("x").requestObject())).isEqualTo(new Skip(SkipReason.REQUEST_OBJECT));
        }

        @Test
        void requestUriOnAPostFormIsNotSkipped() {
            assertThat(decide(req().requestUri().post())).isEqualTo(add("a", Source.CLIENT));
        }
    }

    @Nested
    class Trigger_ {

        @Test
        void missingOrEmpty() {
            ScopeResolver r = cfg().clients(Map.of("c1", "a")).resolver();
            assertThat(r.decide(req().build(), Facts.none())).isEqualTo(add("a", Source.CLIENT));
            assertThat(r.decide(req().scope("").build(), Facts.none())).isEqualTo(add("a", Source.CLIENT));
            assertThat(r.decide(req().scope(" \t").build(), Facts.none())).isEqualTo(add("a", Source.CLIENT));
            assertThat(r.decide(req().scope(null).build(), Facts.none())).as("bare 'scope' without '='")
                    .isEqualTo(add("a", Source.CLIENT));
            assertThat(r.decide(req().scope("x").build(), Facts.none()))
                    .isEqualTo(new Unchanged(Decision.Reason.SCOPE_PRESENT));
        }

        @Test
        void missingOnly() {
            ScopeResolver r = cfg().trigger(Trigger.MISSING).clients(Map.of("c1", "a")).resolver();
            assertThat(r.decide(req().build(), Facts.none())).isEqualTo(add("a", Source.CLIENT));
            assertThat(r.decide(req().scope("").build(), Facts.none()))
                    .isEqualTo(new Unchanged(Decision.Reason.SCOPE_EMPTY));
            assertThat(r.decide(req().scope("  ").build(), Facts.none()))
                    .isEqualTo(new Unchanged(Decision.Reason.SCOPE_EMPTY));
            assertThat(r.decide(req().scope("x").build(), Facts.none()))
                    .isEqualTo(new Unchanged(Decision.Reason.SCOPE_PRESENT));
        }

        @Test
        void seedScenario3ScopesPresentAreLeftAlone() {
            ScopeResolver r = cfg().resolver();
            assertThat(r.decide(req().scope(SEED_SCOPE).build(), Facts.none()))
                    .isEqualTo(new Unchanged(Decision.Reason.SCOPE_PRESENT));
        }
    }

    @Nested
    class Reject {

        static final String ISSUER = "https://my-domain/oauth";
        final ScopeResolver r = cfg().sources(Source.REGISTERED).reject().resolver();
        final Facts server = Facts.none().withServer(null, ISSUER, true);

        @Test
        void redirectsToARegisteredRedirectUriWithStateAndIss() {
            Facts f = server.withRegistration(reg("c1", null, null, "https://x.example/other", CHATGPT_REDIRECT));
            Decision d = r.decide(req().state("s 1&é=/+").build(), f);
            assertThat(d).isEqualTo(new Unresolved(new Rejection.Redirect(CHATGPT_REDIRECT
                    + "?error=invalid_scope"
                    + "&error_description=no%20scope%20was%20requested%20and%20none%20is%20known%20for%20this%20client"
                    + "&state=s%201%26%C3%A9%3D%2F%2B"
                    + "&iss=https%3A%2F%2Fmy-domain%2Foauth"), false));
        }

        @Test
        void appendsToAnExistingQuery() {
            String withQuery = "https://x.example/cb?tenant=a";
            Facts f = server.withServer(null, null, false).withRegistration(reg("c1", null, null, withQuery));
            Rejection.Redirect redirect = (Rejection.Redirect) ((Unresolved) r.decide(
                    req().redirectUri(withQuery).state(null).build(), f)).rejection();
            assertThat(redirect.location()).startsWith(withQuery + "&error=invalid_scope&error_description=")
                    .doesNotContain("state=").doesNotContain("iss=");

            String emptyQuery = "https://x.example/cb?";
            redirect = (Rejection.Redirect) ((Unresolved) r.decide(req().redirectUri(emptyQuery).build(),
                    server.withRegistration(reg("c1", null, null, emptyQuery)))).rejection();
            assertThat(redirect.location()).startsWith(emptyQuery + "error=invalid_scope&");
        }

        @Test
        void issOnlyWhenAdvertisedAndKnown() {
            Facts f = Facts.none().withRegistration(reg("c1", null, null, CHATGPT_REDIRECT));
            assertThat(location(f.withServer(null, ISSUER, false))).doesNotContain("iss=");
            assertThat(location(f.withServer(null, null, true))).doesNotContain("iss=");
            assertThat(location(f.withServer(null, ISSUER, true))).endsWith("&iss=https%3A%2F%2Fmy-domain%2Foauth");
        }

        @Test
        void emptyStateIsEchoed() {
            Facts f = Facts.none().withRegistration(reg("c1", null, null, CHATGPT_REDIRECT));
            assertThat(((Rejection.Redirect) ((Unresolved) r.decide(req().state("").build(), f)).rejection())
                    .location()).endsWith("&state=");
        }

        String location(Facts f) {
            return ((Rejection.Redirect) ((Unresolved) r.decide(req().build(), f)).rejection()).location();
        }

        @Test
        void pageForARedirectUriThatIsNotExactlyRegistered() {
            for (String sent : List.of(CHATGPT_REDIRECT + "/", CHATGPT_REDIRECT.toUpperCase(),
                    CHATGPT_REDIRECT + "?x=1", "https://evil.example/cb", CHATGPT_REDIRECT + "#f")) {
                Decision d = r.decide(req().redirectUri(sent).build(),
                        server.withRegistration(reg("c1", null, null, CHATGPT_REDIRECT)));
                assertThat(d).as(sent).isInstanceOf(Unresolved.class);
                assertThat(((Unresolved) d).rejection()).as(sent).isInstanceOf(Rejection.Page.class);
                assertThat(((Rejection.Page) ((Unresolved) d).rejection()).message())
                        .startsWith("invalid_scope: ").doesNotContain(sent);
            }
        }

        @Test
        void pageWhenNothingIsRegistered() {
            assertThat(((Unresolved) r.decide(req().build(), server.withRegistration(null))).rejection())
                    .isInstanceOf(Rejection.Page.class);
            Facts none = Facts.none().withRegistration(null);
            assertThat(((Unresolved) r.decide(req().redirectUri(null).build(), none)).rejection())
                    .isInstanceOf(Rejection.Page.class);
            assertThat(((Unresolved) r.decide(req().redirectUri("").build(), none)).rejection())
                    .isInstanceOf(Rejection.Page.class);
        }

        @Test
        void pageWhenTheRedirectUriIsAnotherClients() {
            Facts other = server.withRegistration(reg("c2", null, null, CHATGPT_REDIRECT));
            assertThat(((Unresolved) r.decide(req().build(), other)).rejection()).isInstanceOf(Rejection.Page.class);
        }

        @Test
        void pageForRegisteredButDangerousRedirectUris() {
            for (String bad : List.of("javascript:alert(1)", "JavaScript://x/%0aalert(1)", "data:text/html,x",
                    "https://x.example/cb#frag", "no-scheme")) {
                Facts f = server.withRegistration(reg("c1", null, null, bad));
                assertThat(((Unresolved) r.decide(req().redirectUri(bad).build(), f)).rejection()).as(bad)
                        .isInstanceOf(Rejection.Page.class);
            }
            Facts app = server.withRegistration(reg("c1", null, null, "com.example.app:/oauth"));
            assertThat(((Unresolved) r.decide(req().redirectUri("com.example.app:/oauth").build(), app))
                    .rejection()).isInstanceOf(Rejection.Redirect.class);
        }

        @Test
        void forwardIsUnresolvedWithoutRejection() {
            ScopeResolver fwd = cfg().sources(Source.REGISTERED).resolver();
            assertThat(fwd.decide(req().build(), server.withRegistration(null))).isEqualTo(new Unresolved(null, false));
        }
    }

    /** {@code scope.offline-access-prompt}: the decision names the prompt that goes with the scope. */
    @Nested
    class OfflineAccessPromptPolicy {

        @Test
        void consentByDefaultWhenTheAddedScopeHoldsOfflineAccess() {
            ScopeResolver r = cfg().sources(Source.REGISTERED).resolver();
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", "read offline_access", null))))
                    .isEqualTo(new AddScope("read offline_access", Source.REGISTERED, false, "consent"));
        }

        @Test
        void noPromptWithNone() {
            ScopeResolver r = cfg().sources(Source.REGISTERED).offlineAccessPrompt(OfflineAccessPrompt.NONE).resolver();
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", "read offline_access", null))))
                    .isEqualTo(new AddScope("read offline_access", Source.REGISTERED, false, null));
        }

        @Test
        void noPromptWithoutOfflineAccess() {
            ScopeResolver r = cfg().sources(Source.REGISTERED).resolver();
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", "read offline_access_x", null))))
                    .isEqualTo(add("read offline_access_x", Source.REGISTERED));
        }

        @Test
        void aDeniedOfflineAccessBringsNoPrompt() {
            ScopeResolver r = cfg().sources(Source.REGISTERED).deny("offline_access").resolver();
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", "read offline_access", null))))
                    .isEqualTo(add("read", Source.REGISTERED));
        }
    }

    @Nested
    class DryRun {

        @Test
        void addScopeAndUnresolvedCarryTheFlag() {
            ScopeResolver r = cfg().sources(Source.REGISTERED).dryRun().reject().resolver();
            assertThat(r.decide(req().build(), Facts.none().withRegistration(reg("c1", "a", null))))
                    .isEqualTo(new AddScope("a", Source.REGISTERED, true, null));
            Unresolved u = (Unresolved) r.decide(req().build(),
                    Facts.none().withRegistration(reg("c1", null, null, CHATGPT_REDIRECT)));
            assertThat(u.dryRun()).isTrue();
            assertThat(u.rejection()).isInstanceOf(Rejection.Redirect.class);
            assertThat(cfg().dryRun().sources().resolver().decide(req().build(), Facts.none()))
                    .isEqualTo(new Unresolved(null, true));
        }
    }

    @Nested
    class Isolation {

        @Test
        void anotherClientsRegistrationIsIgnored() {
            ScopeResolver r = cfg().sources(Source.REGISTERED, Source.LEARNED, Source.DEFAULT).defaultScope("d")
                    .resolver();
            Facts wrong = Facts.none().withRegistration(reg("c2", "c2-scope", "c2-learned"));
            assertThat(r.decide(req().build(), wrong)).isEqualTo(add("d", Source.DEFAULT));
        }
    }

    @Nested
    class Explain {

        final ScopeResolver r = cfg()
                .sources(Source.CLIENT, Source.DOCUMENT, Source.RESOURCE, Source.REGISTERED, Source.LEARNED,
                        Source.SERVER, Source.DEFAULT)
                .deny("admin:*").defaultScope("def")
                .families(new Family("chatgpt", List.of("chatgpt.com"), null)).resolver();
        final Facts facts = Facts.none().withServer(List.of("read", "write", "admin:all"), "https://i", true)
                .withRegistration(reg("c1", "admin:all read read nope", "write"));

        @Test
        void showsEverySourceWithCandidateCutsAndWinner() {
            Explanation e = r.explain(AuthorizationRequest.withoutScope("c1", CHATGPT_REDIRECT, null), facts);

            assertThat(e.clientId()).isEqualTo("c1");
            assertThat(e.family()).isEqualTo("chatgpt");
            assertThat(e.winner()).isEqualTo(Source.REGISTERED);
            assertThat(e.scope()).isEqualTo("read");
            assertThat(e.outcome()).isEqualTo("AddScope");
            assertThat(e.decision()).isEqualTo(add("read", Source.REGISTERED))
                    .isEqualTo(r.decide(AuthorizationRequest.withoutScope("c1", CHATGPT_REDIRECT, null), facts));

            assertThat(e.chain()).extracting(Explanation.Step::source).containsExactly(Source.CLIENT,
                    Source.DOCUMENT, Source.RESOURCE, Source.REGISTERED, Source.LEARNED, Source.SERVER, Source.DEFAULT);
            assertThat(e.chain()).extracting(Explanation.Step::status).containsExactly(Status.NO_CANDIDATE,
                    Status.NOT_APPLICABLE, Status.NOT_APPLICABLE, Status.WON, Status.YIELDS, Status.YIELDS,
                    Status.EMPTY_AFTER_POLICY);
            assertThat(e.chain()).extracting(Explanation.Step::reached)
                    .containsExactly(true, true, true, true, false, false, false);

            Explanation.Step registered = e.chain().get(3);
            assertThat(registered.candidate()).isEqualTo("admin:all read read nope");
            assertThat(registered.result()).isEqualTo("read");
            assertThat(registered.cuts()).containsExactly(
                    new Explanation.Cut("admin:all", CutReason.DENIED, "admin:*"),
                    new Explanation.Cut("read", CutReason.DUPLICATE, null),
                    new Explanation.Cut("nope", CutReason.UNSUPPORTED, null));
            assertThat(e.chain().get(5).result()).isEqualTo("read write");
            assertThat(e.chain().get(6).cuts()).containsExactly(new Explanation.Cut("def", CutReason.UNSUPPORTED, null));
        }

        @Test
        void showsMissingFactsAndNeedFacts() {
            AuthorizationRequest request = AuthorizationRequest.withoutScope("https://app.example/c", null,
                    "https://rs");
            Explanation e = r.explain(request, Facts.none());
            assertThat(e.decision()).isEqualTo(new NeedFacts(Set.of(Fact.DOCUMENT, Fact.RESOURCE_METADATA,
                    Fact.REGISTRATION)));
            assertThat(e.outcome()).isEqualTo("NeedFacts");
            assertThat(e.winner()).isNull();
            assertThat(e.family()).isEqualTo(ClientFamilies.OTHER);
            assertThat(e.chain()).extracting(Explanation.Step::status).containsExactly(Status.NO_CANDIDATE,
                    Status.FACT_MISSING, Status.FACT_MISSING, Status.FACT_MISSING, Status.FACT_MISSING,
                    Status.NO_CANDIDATE, Status.YIELDS);
            assertThat(e.chain().get(1).missingFacts()).containsExactly(Fact.DOCUMENT);
            assertThat(e.chain().get(2).missingFacts()).containsExactly(Fact.RESOURCE_METADATA);
            assertThat(e.chain().get(1).reached()).isTrue();
            assertThat(e.chain().get(2).reached()).isFalse();
        }

        @Test
        void skippedRequestsStillShowTheChain() {
            Explanation e = r.explain(req().requestObject().build(), facts);
            assertThat(e.decision()).isEqualTo(new Skip(SkipReason.REQUEST_OBJECT));
            assertThat(e.winner()).isNull();
            assertThat(e.chain()).allSatisfy(s -> assertThat(s.reached()).isFalse());
            assertThat(e.chain().get(3).status()).isEqualTo(Status.YIELDS);
        }

        @Test
        void serializesToReadableJson() throws Exception {
            ObjectMapper json = new ObjectMapper();
            Explanation e = r.explain(AuthorizationRequest.withoutScope("c1", CHATGPT_REDIRECT, null), facts);
            JsonNode tree = json.readTree(json.writeValueAsString(e));

            assertThat(tree.get("clientId").asText()).isEqualTo("c1");
            assertThat(tree.get("winner").asText()).isEqualTo("REGISTERED");
            assertThat(tree.get("outcome").asText()).isEqualTo("AddScope");
            assertThat(tree.get("decision").get("scope").asText()).isEqualTo("read");
            assertThat(tree.get("decision").get("source").asText()).isEqualTo("REGISTERED");
            JsonNode step = tree.get("chain").get(3);
            assertThat(step.get("status").asText()).isEqualTo("WON");
            assertThat(step.get("cuts").get(0).get("reason").asText()).isEqualTo("DENIED");
            assertThat(step.get("cuts").get(0).get("rule").asText()).isEqualTo("admin:*");

            ScopeResolver rej = cfg().sources(Source.REGISTERED).reject().resolver();
            JsonNode unresolved = json.readTree(json.writeValueAsString(rej.explain(req().build(),
                    Facts.none().withRegistration(reg("c1", null, null, CHATGPT_REDIRECT)))));
            assertThat(unresolved.get("decision").get("rejection").get("location").asText())
                    .startsWith(CHATGPT_REDIRECT + "?error=invalid_scope");
            JsonNode need = json.readTree(json.writeValueAsString(rej.explain(req().build(), Facts.none())));
            assertThat(need.get("decision").get("facts").get(0).asText()).isEqualTo("REGISTRATION");
        }
    }

    @Test
    void factsNormalizeLookedUpFlags() {
        Facts f = new Facts(reg("c1", "a", null), false, null, null, false, List.of("r"), false, "d", false);
        assertThat(f.registrationLookedUp()).isTrue();
        assertThat(f.resourceLookedUp()).isTrue();
        assertThat(f.documentLookedUp()).isTrue();
        assertThat(Facts.none().lookedUp(Fact.REGISTRATION)).isFalse();
        assertThat(Facts.none().withRegistration(null).lookedUp(Fact.REGISTRATION)).isTrue();
    }
}
