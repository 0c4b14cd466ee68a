package dev.scopegate.oauth.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.config.ScopegateConfig.Augment;
import dev.scopegate.oauth.HttpFetcher;
import dev.scopegate.oauth.metadata.LearnedIssuers.Outcome;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link LearnedIssuers}: which issuer paths are fetched, when a fetched one is learned, and the
 * bounds (negative cache, cap, concurrent probes, a flood of random paths). The IdP is an
 * in-memory fetcher that records every GET; time is a fake ticker.
 */
class LearnedIssuersTest {

    static final URI UPSTREAM = URI.create("http://idp.internal:8080");
    static final URI PUBLIC = URI.create("https://gw.example/realms/main");
    static final Duration TTL = Duration.ofMinutes(5);

    /** The IdP: path to answer (404 otherwise); every GET recorded; answers held while {@link #held} is set. */
    final Map<String, HttpFetcher.Response> answers = new ConcurrentHashMap<>();
    final List<String> fetched = new CopyOnWriteArrayList<>();
    final List<Map<String, String>> headers = new CopyOnWriteArrayList<>();
    volatile CompletableFuture<Void> held;
    final HttpFetcher fetcher = (uri, h, max, timeout) -> {
        fetched.add(uri.getRawPath());
        headers.add(h);
        HttpFetcher.Response r = answers.getOrDefault(uri.getRawPath(), new HttpFetcher.Response(404, Map.of(), new byte[0]));
        CompletableFuture<Void> gate = held;
        return gate == null ? CompletableFuture.completedFuture(r) : gate.thenApply(v -> r);
    };
    final AtomicLong nanos = new AtomicLong();
    final Ticker ticker = nanos::get;
    final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        scheduler.shutdownNow();
    }

    /** A realm's OIDC document at the Keycloak location, naming {@code issuer}. */
    void realm(String path, String issuer, String... scopes) {
        String json = "{\"issuer\":\"" + issuer + "\",\"authorization_endpoint\":\"" + issuer
                + "/protocol/openid-connect/auth\",\"token_endpoint\":\"" + issuer + "/protocol/openid-connect/token\","
                + "\"scopes_supported\":[" + String.join(",", List.of(scopes).stream().map(s -> "\"" + s + "\"").toList())
                + "]}";
        answers.put(path + WellKnown.OIDC, new HttpFetcher.Response(200,
                Map.of("content-type", List.of("application/json")), json.getBytes(StandardCharsets.UTF_8)));
    }

    LearnedIssuers issuers(URI publicBaseUrl, int max) {
        MetadataService primary = new MetadataService(fetcher, UPSTREAM, publicBaseUrl,
                MetadataService.issuerPathOf(publicBaseUrl), Duration.ofMinutes(5), scheduler, Clock.systemUTC(),
                new Augment(null, false));
        closing.add(primary);
        ScopegateConfig.Metadata md = new ScopegateConfig.Metadata(Duration.ofMinutes(5), new Augment(null, false),
                new ScopegateConfig.Issuers(true, max, TTL));
        LearnedIssuers li = new LearnedIssuers(md.issuers(), fetcher, UPSTREAM, publicBaseUrl, primary, md, scheduler,
                Clock.systemUTC(), ticker, outcomes::add);
        closing.add(0, li);
        return li;
    }

    static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void anIssuerWhoseDocumentNamesExactlyThePublicIssuerIsLearned() throws Exception {
        realm("/realms/b", "https://gw.example/realms/b", "openid", "b:read");
        LearnedIssuers li = issuers(PUBLIC, 32);
        MetadataService b = get(li.learn("/realms/b"));
        assertThat(b).isNotNull();
        assertThat(b.cachedOrNull().issuer()).isEqualTo("https://gw.example/realms/b");
        assertThat(b.cachedOrNull().scopesSupported()).containsExactly("openid", "b:read");
        assertThat(li.learned("/realms/b")).isSameAs(b);
        assertThat(li.all()).containsOnlyKeys("/realms/b");
        assertThat(outcomes).containsExactly(Outcome.LEARNED);
        // fetched as a client of public-base-url would ask, at the RFC 8414 and OIDC locations
        assertThat(fetched).containsExactlyInAnyOrder("/.well-known/oauth-authorization-server/realms/b",
                "/realms/b/.well-known/openid-configuration");
        assertThat(headers.get(0)).containsEntry("Host", "gw.example").containsEntry("X-Forwarded-Proto", "https");
        // served for the issuer's own paths only
        assertThat(b.documentFor("/.well-known/openid-configuration/realms/b")).hasValueSatisfying(
                s -> assertThat(s.status()).isEqualTo(200));
        // asked again: no fetch
        fetched.clear();
        assertThat(get(li.learn("/realms/b"))).isSameAs(b);
        assertThat(fetched).isEmpty();
    }

    @Test
    void aDocumentNamingAnotherIssuerIsRefused_andNotFetchedAgainUntilTheNegativeTtlEnds() throws Exception {
        // the IdP names its internal origin, a trailing slash, or another realm: none is the public issuer
        for (String wrong : List.of("http://idp.internal:8080/realms/b", "https://gw.example/realms/b/",
                "https://gw.example/realms/a", "https://GW.example/realms/b")) {
            outcomes.clear();
            fetched.clear();
            nanos.set(0);
            realm("/realms/b", wrong);
            LearnedIssuers li = issuers(PUBLIC, 32);
            assertThat(get(li.learn("/realms/b"))).as(wrong).isNull();
            assertThat(li.size()).isZero();
            assertThat(outcomes).containsExactly(Outcome.MISMATCH);
            assertThat(fetched).hasSize(2);
            assertThat(get(li.learn("/realms/b"))).isNull();
            assertThat(fetched).as("negative cache").hasSize(2);
            nanos.addAndGet(TTL.toNanos() - 1);
            assertThat(get(li.learn("/realms/b"))).isNull();
            assertThat(fetched).as(wrong + " at " + nanos.get()).hasSize(2);
            nanos.addAndGet(2);
            realm("/realms/b", "https://gw.example/realms/b");
            assertThat(get(li.learn("/realms/b"))).as("after the TTL it is fetched again").isNotNull();
            assertThat(fetched).hasSize(4);
        }
    }

    @Test
    void aRefusedProbeLeavesTheVersionAlone_soAFloodDoesNotRebuildTheRouteTable() throws Exception {
        LearnedIssuers li = issuers(PUBLIC, 32);
        long version = li.version();
        realm("/realms/m", "https://gw.example/realms/other");
        for (String p : List.of("/realms/nope", "/realms/m")) {
            assertThat(get(li.learn(p))).isNull();
        }
        assertThat(li.version()).isEqualTo(version);
        realm("/realms/b", "https://gw.example/realms/b");
        assertThat(get(li.learn("/realms/b"))).isNotNull();
        assertThat(li.version()).isGreaterThan(version);
    }

    @Test
    void aPathTheIdpDoesNotServeOrThatFailsIsRememberedAsRefused() throws Exception {
        LearnedIssuers li = issuers(PUBLIC, 32);
        assertThat(get(li.learn("/realms/nope"))).isNull();
        answers.put("/realms/broken" + WellKnown.OIDC, new HttpFetcher.Response(500, Map.of(), new byte[0]));
        assertThat(get(li.learn("/realms/broken"))).isNull();
        answers.put("/realms/junk" + WellKnown.OIDC, new HttpFetcher.Response(200, Map.of(), "not json".getBytes()));
        assertThat(get(li.learn("/realms/junk"))).isNull();
        assertThat(outcomes).containsExactly(Outcome.NOT_FOUND, Outcome.FAILED, Outcome.FAILED);
        int n = fetched.size();
        for (String p : List.of("/realms/nope", "/realms/broken", "/realms/junk")) {
            assertThat(get(li.learn(p))).isNull();
        }
        assertThat(fetched).hasSize(n);
    }

    @Test
    void malformedPathsAndTheConfiguredIssuersPathAreNeverFetched() throws Exception {
        LearnedIssuers li = issuers(PUBLIC, 32);
        for (String p : List.of("/realms/../b", "//b", "/realms/b/", "/realms/%2e%2e", "/realms/main")) {
            assertThat(get(li.learn(p))).as(p).isNull();
        }
        assertThat(fetched).isEmpty();
        assertThat(outcomes).containsOnly(Outcome.INVALID).hasSize(5);
    }

    @Test
    void concurrentFirstRequestsShareOneFetch() throws Exception {
        realm("/realms/b", "https://gw.example/realms/b");
        LearnedIssuers li = issuers(PUBLIC, 32);
        held = new CompletableFuture<>();
        List<CompletableFuture<MetadataService>> asks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            asks.add(li.learn("/realms/b"));
        }
        assertThat(asks).allMatch(f -> !f.isDone());
        assertThat(fetched).hasSize(2); // the OAuth and the first OIDC location, once
        held.complete(null);
        MetadataService first = get(asks.get(0));
        for (CompletableFuture<MetadataService> f : asks) {
            assertThat(get(f)).isSameAs(first).isNotNull();
        }
        assertThat(fetched).hasSize(2);
        assertThat(outcomes).containsExactly(Outcome.LEARNED);
    }

    @Test
    void atMostMaxIssuersAreLearned_furtherPathsAreNotFetched() throws Exception {
        for (String r : List.of("a", "b", "c")) {
            realm("/realms/" + r, "https://gw.example/realms/" + r);
        }
        LearnedIssuers li = issuers(PUBLIC, 2);
        assertThat(get(li.learn("/realms/a"))).isNotNull();
        assertThat(get(li.learn("/realms/b"))).isNotNull();
        int n = fetched.size();
        assertThat(get(li.learn("/realms/c"))).isNull();
        assertThat(fetched).hasSize(n);
        assertThat(li.all()).containsOnlyKeys("/realms/a", "/realms/b");
        assertThat(outcomes).containsExactly(Outcome.LEARNED, Outcome.LEARNED, Outcome.FULL);
    }

    @Test
    void atMostFourPathsAreFetchedAtOnce() throws Exception {
        LearnedIssuers li = issuers(PUBLIC, 32);
        held = new CompletableFuture<>();
        List<CompletableFuture<MetadataService>> asks = new ArrayList<>();
        for (int i = 0; i < LearnedIssuers.MAX_CONCURRENT_PROBES + 3; i++) {
            asks.add(li.learn("/flood/" + i));
        }
        assertThat(fetched).hasSize(2 * LearnedIssuers.MAX_CONCURRENT_PROBES);
        assertThat(outcomes).containsOnly(Outcome.BUSY).hasSize(3);
        held.complete(null);
        for (CompletableFuture<MetadataService> f : asks) {
            assertThat(get(f)).isNull();
        }
        // a busy path was not remembered as refused: asked again, it is fetched
        held = null;
        fetched.clear();
        assertThat(get(li.learn("/flood/" + (LearnedIssuers.MAX_CONCURRENT_PROBES + 1)))).isNull();
        assertThat(fetched).hasSize(3);
    }

    @Test
    void aFloodOfRandomPathsFetchesEachOncePerTtl_andKeepsBoundedMemory() throws Exception {
        LearnedIssuers li = issuers(PUBLIC, 32);
        // within the refused cache's bound: each path is fetched once (3 GETs: nothing anywhere), however often asked
        int paths = 5_000;
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < paths; i++) {
                assertThat(get(li.learn("/random/" + i))).isNull();
            }
        }
        assertThat(fetched).hasSize(3 * paths);
        assertThat(outcomes).containsOnly(Outcome.NOT_FOUND).hasSize(paths);
        // beyond it: memory stays bounded (the least used refused paths are forgotten), never a fetch per ask more
        fetched.clear();
        int more = LearnedIssuers.REFUSED_ENTRIES + 2_000;
        for (int i = 0; i < more; i++) {
            assertThat(get(li.learn("/more/" + i))).isNull();
        }
        assertThat(fetched).hasSize(3 * more);
        assertThat(li.refusedSize()).isLessThanOrEqualTo(LearnedIssuers.REFUSED_ENTRIES);
        assertThat(li.size()).isZero();
        assertThat(li.probingNow()).isZero();
    }

    @Test
    void withoutPublicBaseUrlTheConfiguredIssuersOriginIsThePublicOrigin() throws Exception {
        answers.put(WellKnown.OAUTH, new HttpFetcher.Response(200, Map.of(),
                "{\"issuer\":\"https://sso.example\",\"authorization_endpoint\":\"https://sso.example/auth\"}".getBytes()));
        realm("/realms/b", "https://sso.example/realms/b");
        LearnedIssuers li = issuers(null, 32);
        // the configured issuer's metadata is fetched first (waited for), then its origin is the one
        assertThat(get(li.learn("/realms/b"))).isNotNull();
        assertThat(li.publicOrigin()).isEqualTo("https://sso.example");
        // and no forwarding headers are sent without public-base-url
        assertThat(headers).allMatch(Map::isEmpty);
    }

    @Test
    void aRefreshThatNamesAnotherIssuerKeepsTheLastGoodCopy() throws Exception {
        realm("/realms/b", "https://gw.example/realms/b", "b:read");
        LearnedIssuers li = issuers(PUBLIC, 32);
        MetadataService b = get(li.learn("/realms/b"));
        long version = li.version();
        realm("/realms/b", "https://evil.example/realms/b", "evil");
        assertThat(get(b.probe())).isEqualTo(MetadataService.Probe.FOUND); // still cached
        assertThat(b.cachedOrNull().issuer()).isEqualTo("https://gw.example/realms/b");
        assertThat(b.cachedOrNull().scopesSupported()).containsExactly("b:read");
        assertThat(li.version()).isGreaterThan(version);
    }
}
