package dev.scopegate.oauth.scope;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ScopegateConfig.Source;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.scopegate.oauth.scope.Fixtures.cfg;
import static dev.scopegate.oauth.scope.Fixtures.reg;
import static dev.scopegate.oauth.scope.Fixtures.req;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code scope.add-always} and the demotion of rejected candidates, in the resolver. */
class AddAlwaysAndDemotionTest {

    static final List<String> SUPPORTED = List.of("a", "b", "offline_access");
    static final Facts SERVER = Facts.none().withServer(SUPPORTED, "https://idp", false);

    @Nested
    class AddAlways {

        @Test
        void extendsARequestsOwnScopeThatLacksThem() {
            ScopeResolver r = cfg().addAlways("offline_access").resolver();
            assertThat(r.decide(req().scope("a b").build(), SERVER))
                    .isEqualTo(new Decision.AddAlways("offline_access", "a b offline_access", false, "consent"));
        }

        @Test
        void leavesARequestThatHasThemAlone() {
            ScopeResolver r = cfg().addAlways("offline_access").resolver();
            assertThat(r.decide(req().scope("a offline_access").build(), SERVER))
                    .isEqualTo(new Decision.Unchanged(Decision.Reason.SCOPE_PRESENT));
            // a token that merely contains the name is not it
            assertThat(r.decide(req().scope("offline_access_x").build(), SERVER))
                    .isInstanceOf(Decision.AddAlways.class);
        }

        @Test
        void offLeavesRequestsWithScopeUntouched() {
            assertThat(cfg().resolver().decide(req().scope("a").build(), SERVER))
                    .isEqualTo(new Decision.Unchanged(Decision.Reason.SCOPE_PRESENT));
        }

        @Test
        void appendsToTheResolvedScope() {
            ScopeResolver r = cfg().sources(Source.DEFAULT).defaultScope("a").addAlways("offline_access").resolver();
            Decision d = r.decide(req().build(), SERVER);
            assertThat(d).isInstanceOfSatisfying(Decision.AddScope.class, add -> {
                assertThat(add.scope()).isEqualTo("a offline_access");
                assertThat(add.source()).isEqualTo(Source.DEFAULT);
                assertThat(add.prompt()).isEqualTo("consent");
            });
            ScopeResolver has = cfg().sources(Source.DEFAULT).defaultScope("offline_access a")
                    .addAlways("offline_access").resolver();
            assertThat(((Decision.AddScope) has.decide(req().build(), SERVER)).scope()).isEqualTo("offline_access a");
        }

        @Test
        void denyAndOnlySupportedApplyToThem() {
            ScopeResolver unsupported = cfg().addAlways("offline_access", "x").resolver();
            assertThat(unsupported.decide(req().scope("a").build(), SERVER))
                    .isEqualTo(new Decision.AddAlways("offline_access", "a offline_access", false, "consent"));
            ScopeResolver denied = cfg().addAlways("offline_access").deny("offline_*").resolver();
            assertThat(denied.decide(req().scope("a").build(), SERVER))
                    .isEqualTo(new Decision.Unchanged(Decision.Reason.SCOPE_PRESENT));
        }

        @Test
        void neverRewriteCasesStaySkipped() {
            ScopeResolver r = cfg().addAlways("offline_access").resolver();
            assertThat(r.decide(req().scope("a").scopeCount(2).build(), SERVER)).isInstanceOf(Decision.Skip.class);
            assertThat(r.decide(req().scope("a").requestObject().build(), SERVER)).isInstanceOf(Decision.Skip.class);
            assertThat(r.decide(req().scope("a").clientIdCount(2).build(), SERVER)).isInstanceOf(Decision.Skip.class);
        }

        @Test
        void dryRunIsCarried() {
            ScopeResolver r = cfg().addAlways("offline_access").dryRun().resolver();
            assertThat(((Decision.AddAlways) r.decide(req().scope("a").build(), SERVER)).dryRun()).isTrue();
        }
    }

    @Nested
    class Demotion {
        final AtomicLong nanos = new AtomicLong();
        final Ticker ticker = nanos::get;
        final ScopeDemotions demotions = new ScopeDemotions(ticker,
                Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));
        final ScopeResolver resolver = new ScopeResolver(
                cfg().sources(Source.LEARNED, Source.REGISTERED, Source.DEFAULT).defaultScope("a").build(), demotions);
        final Facts c1 = SERVER.withRegistration(reg("c1", "a b", "b", Fixtures.CHATGPT_REDIRECT));

        @Test
        void aDemotedCandidateFallsThroughToTheNextSource() {
            assertThat(((Decision.AddScope) resolver.decide(req().build(), c1)).source()).isEqualTo(Source.LEARNED);
            assertThat(demotions.demote("c1", Source.LEARNED, "b")).isTrue();
            Decision.AddScope next = (Decision.AddScope) resolver.decide(req().build(), c1);
            assertThat(next.source()).isEqualTo(Source.REGISTERED);
            assertThat(next.scope()).isEqualTo("a b");
            demotions.demote("c1", Source.REGISTERED, "a b");
            assertThat(((Decision.AddScope) resolver.decide(req().build(), c1)).source()).isEqualTo(Source.DEFAULT);
        }

        @Test
        void itIsPerClientPerSourceAndPerValue() {
            demotions.demote("c1", Source.LEARNED, "b");
            Facts c2 = SERVER.withRegistration(reg("c2", "a b", "b", Fixtures.CHATGPT_REDIRECT));
            assertThat(((Decision.AddScope) resolver.decide(req().clientId("c2").build(), c2)).source())
                    .as("another client with the same learned scope").isEqualTo(Source.LEARNED);
            Facts relearned = SERVER.withRegistration(reg("c1", "a b", "a b", Fixtures.CHATGPT_REDIRECT));
            assertThat(((Decision.AddScope) resolver.decide(req().build(), relearned)).source())
                    .as("a different value learned later").isEqualTo(Source.LEARNED);
        }

        @Test
        void onlyLearnedAndRegisteredCanBeDemoted() {
            assertThat(demotions.demote("c1", Source.DEFAULT, "a")).isFalse();
            assertThat(demotions.demote("c1", Source.CLIENT, "a")).isFalse();
            assertThat(demotions.isDemoted("c1", Source.DEFAULT, "a")).isFalse();
        }

        @Test
        void demotionsExpire() {
            demotions.demote("c1", Source.LEARNED, "b");
            nanos.addAndGet(TimeUnit.HOURS.toNanos(23));
            assertThat(demotions.isDemoted("c1", Source.LEARNED, "b")).isTrue();
            nanos.addAndGet(TimeUnit.HOURS.toNanos(2));
            assertThat(demotions.isDemoted("c1", Source.LEARNED, "b")).isFalse();
            assertThat(((Decision.AddScope) resolver.decide(req().build(), c1)).source()).isEqualTo(Source.LEARNED);
        }

        @Test
        void explainShowsTheDemotion() {
            demotions.demote("c1", Source.LEARNED, "b");
            Explanation e = resolver.explain(req().build(), c1.withResourceScopes(null).withDocumentScope(null));
            assertThat(e.chain().get(0).status()).isEqualTo(Explanation.Status.DEMOTED);
            assertThat(e.chain().get(1).status()).isEqualTo(Explanation.Status.WON);
            assertThat(e.winner()).isEqualTo(Source.REGISTERED);
            assertThat(demotions.demotedAt("c1", Source.LEARNED, "b")).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        }
    }
}
