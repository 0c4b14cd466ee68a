package dev.scopegate.oauth.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scopegate.config.ScopegateConfig.Augment;
import dev.scopegate.fetch.OwnLoopFetcher;
import dev.scopegate.oauth.metadata.FakeIdp.Reply;
import dev.scopegate.oauth.metadata.MetadataService.Served;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetadataServiceTest {

    private static final String OAUTH = "/.well-known/oauth-authorization-server";
    private static final String OIDC = "/.well-known/openid-configuration";
    private static final Duration REFRESH = Duration.ofMinutes(5);
    private static final Augment NO_AUGMENT = new Augment(null, false);
    private static final URI PUBLIC = URI.create("https://my-domain");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static OwnLoopFetcher fetcher;

    private final StepScheduler scheduler = new StepScheduler();
    private final MutableClock clock = new MutableClock(Instant.parse("2025-06-01T10:00:00Z"));
    private final List<MetadataService> services = new ArrayList<>();
    private FakeIdp idp;

    @BeforeAll
    static void startFetcher() {
        fetcher = new OwnLoopFetcher();
    }

    @AfterAll
    static void stopFetcher() {
        fetcher.close();
    }

    @BeforeEach
    void startIdp() throws Exception {
        idp = new FakeIdp();
    }

    @AfterEach
    void stop() {
        services.forEach(MetadataService::close);
        scheduler.shutdownNow();
        idp.close();
    }

    private MetadataService service(URI publicBaseUrl, String issuerPath, Augment augment) {
        return service(idp.base(), publicBaseUrl, issuerPath, augment);
    }

    private MetadataService service(URI upstream, URI publicBaseUrl, String issuerPath, Augment augment) {
        MetadataService s = new MetadataService(fetcher, upstream, publicBaseUrl, issuerPath, REFRESH, scheduler, clock, augment);
        services.add(s);
        return s;
    }

    private static String doc(String issuer, String endpointBase) {
        return "{\"issuer\":\"" + issuer + "\","
                + "\"authorization_endpoint\":\"" + endpointBase + "/oauth/authorize\","
                + "\"token_endpoint\":\"" + endpointBase + "/oauth/token\","
                + "\"registration_endpoint\":\"" + endpointBase + "/oauth/register\","
                + "\"response_types_supported\":[\"code\"]}";
    }

    private static String body(Optional<Served> served) {
        assertThat(served).isPresent();
        return new String(served.get().body(), StandardCharsets.UTF_8);
    }

    private static <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(5, TimeUnit.SECONDS);
    }

    private static Throwable failureOf(CompletableFuture<?> f) throws Exception {
        try {
            f.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void fetchesAtStartThenRefreshesEveryPeriod() throws Exception {
        idp.reply(OAUTH, Reply.json(doc("https://my-domain", "https://my-domain")));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);
        assertThat(s.ready()).isFalse();
        assertThat(s.lastSuccess()).isNull();

        s.start();
        StepScheduler.Pending next = scheduler.awaitPending();

        assertThat(next.delay()).isEqualTo(REFRESH);
        assertThat(s.ready()).isTrue();
        assertThat(s.cachedOrNull().issuer()).isEqualTo("https://my-domain");
        assertThat(s.cachedOrNull().authorizationPath()).isEqualTo("/oauth/authorize");
        assertThat(s.refreshes()).isEqualTo(1);
        assertThat(s.failures()).isZero();
        assertThat(s.lastSuccess()).isEqualTo(clock.instant());
        assertThat(idp.count(OAUTH)).isEqualTo(1);
        assertThat(idp.count(OIDC)).isEqualTo(1);
        assertThat(s.documentFor(OAUTH).map(Served::status)).contains(200);
        assertThat(s.documentFor(OIDC).map(Served::status)).contains(404);
        assertThat(s.documentFor("/oauth/authorize")).isEmpty();

        clock.advance(REFRESH);
        scheduler.fire(next);

        assertThat(scheduler.awaitPending().delay()).isEqualTo(REFRESH);
        assertThat(idp.count(OAUTH)).isEqualTo(2);
        assertThat(s.refreshes()).isEqualTo(2);
        assertThat(s.lastSuccess()).isEqualTo(clock.instant());
    }

    @Test
    void insertsTheIssuerPathAndTriesBothOpenIdForms() throws Exception {
        String oauth = doc("https://my-domain/tenant1", "https://my-domain/tenant1");
        String oidc = "{\"issuer\":\"https://my-domain/tenant1\",\"jwks_uri\":\"https://my-domain/tenant1/jwks\"}";
        idp.reply(OAUTH + "/tenant1", Reply.json(oauth));
        idp.reply(OIDC + "/tenant1", Reply.json(oidc));
        MetadataService s = service(URI.create("https://my-domain/tenant1/"), MetadataService.issuerPathOf(URI.create("https://my-domain/tenant1/")), NO_AUGMENT);

        await(s.current());

        assertThat(idp.count(OAUTH + "/tenant1")).isEqualTo(1);
        assertThat(idp.count("/tenant1" + OIDC)).isEqualTo(1);
        assertThat(idp.count(OIDC + "/tenant1")).isEqualTo(1);
        assertThat(idp.count(OAUTH)).isZero();
        assertThat(idp.count(OIDC)).isZero();
        assertThat(body(s.documentFor(OAUTH + "/tenant1"))).isEqualTo(oauth);
        assertThat(body(s.documentFor(OAUTH))).isEqualTo(oauth);
        assertThat(body(s.documentFor("/tenant1" + OIDC))).isEqualTo(oidc);
        assertThat(body(s.documentFor(OIDC + "/tenant1"))).isEqualTo(oidc);
        assertThat(s.servesPath(OIDC)).isTrue();
        assertThat(s.servesPath(OAUTH + "/other")).isFalse();
    }

    @Test
    void issuerPathOfPublicBaseUrl() {
        assertThat(MetadataService.issuerPathOf(null)).isEmpty();
        assertThat(MetadataService.issuerPathOf(URI.create("https://my-domain"))).isEmpty();
        assertThat(MetadataService.issuerPathOf(URI.create("https://my-domain/"))).isEmpty();
        assertThat(MetadataService.issuerPathOf(URI.create("https://my-domain/a/b/"))).isEqualTo("/a/b");
    }

    @Test
    void alsoServesThePathInsertedFormOfTheIssuerItLearned() throws Exception {
        idp.reply(OAUTH, Reply.json(doc("https://my-domain/oauth", "https://my-domain")));
        MetadataService s = service(PUBLIC, "", NO_AUGMENT);

        await(s.current());

        assertThat(s.servesPath(OAUTH + "/oauth")).isTrue();
        assertThat(s.documentFor(OAUTH + "/oauth").map(Served::status)).contains(200);
        assertThat(s.documentFor("/oauth" + OIDC).map(Served::status)).contains(404);
    }

    @Test
    void idpDownAtStartIsRetriedWithShortBackoffUntilItIsUp() throws Exception {
        idp.replyEverywhere(new Reply(503, "text/plain", "down".getBytes(StandardCharsets.UTF_8)));
        idp.reply(OAUTH, Reply.json(doc("https://my-domain", "https://my-domain")));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);

        assertThatCode(s::start).doesNotThrowAnyException();
        List<Duration> delays = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            StepScheduler.Pending retry = scheduler.awaitPending();
            delays.add(retry.delay());
            assertThat(s.ready()).isFalse();
            scheduler.fire(retry);
        }
        StepScheduler.Pending afterFifthRetry = scheduler.awaitPending();
        idp.replyEverywhere(null);
        scheduler.fire(afterFifthRetry);

        assertThat(delays).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                Duration.ofSeconds(5), Duration.ofSeconds(5));
        assertThat(afterFifthRetry.delay()).isEqualTo(Duration.ofSeconds(5));
        assertThat(scheduler.awaitPending().delay()).isEqualTo(REFRESH);
        assertThat(s.ready()).isTrue();
        assertThat(s.failures()).isEqualTo(6);
        assertThat(s.refreshes()).isEqualTo(1);
    }

    @Test
    void unreachableIdpIsNotFatalAndCurrentFailsClearly() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        MetadataService s = service(URI.create("http://127.0.0.1:" + closedPort), PUBLIC, null, NO_AUGMENT);

        s.start();

        assertThat(scheduler.awaitPending().delay()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.ready()).isFalse();
        assertThat(s.failures()).isEqualTo(1);
        assertThat(failureOf(s.current()))
                .isInstanceOf(MetadataUnavailableException.class)
                .hasMessageContaining("oauth-authorization-server")
                .hasMessageContaining(String.valueOf(closedPort));
        assertThat(await(s.documentForAsync(OAUTH)).map(Served::status)).contains(503);
        assertThat(await(s.documentForAsync("/elsewhere"))).isEmpty();
    }

    @Test
    void refreshFailureKeepsTheLastGoodCopy() throws Exception {
        String v1 = doc("https://my-domain", "https://my-domain");
        idp.reply(OAUTH, Reply.json(v1));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);
        s.start();
        StepScheduler.Pending refresh = scheduler.awaitPending();
        Instant firstSuccess = clock.instant();

        idp.replyEverywhere(new Reply(500, "text/plain", "boom".getBytes(StandardCharsets.UTF_8)));
        clock.advance(REFRESH);
        scheduler.fire(refresh);
        StepScheduler.Pending retry = scheduler.awaitPending();

        assertThat(retry.delay()).isEqualTo(Duration.ofSeconds(1));
        assertThat(s.ready()).isTrue();
        assertThat(body(s.documentFor(OAUTH))).isEqualTo(v1);
        assertThat(await(s.current()).issuer()).isEqualTo("https://my-domain");
        assertThat(s.failures()).isEqualTo(1);
        assertThat(s.lastSuccess()).isEqualTo(firstSuccess);

        // A 404 for a document that was once found is a failure too: the copy stays.
        idp.replyEverywhere(null);
        idp.reply(OAUTH, null);
        scheduler.fire(retry);
        StepScheduler.Pending secondRetry = scheduler.awaitPending();
        assertThat(secondRetry.delay()).isEqualTo(Duration.ofSeconds(2));
        assertThat(body(s.documentFor(OAUTH))).isEqualTo(v1);

        String v2 = doc("https://my-domain", "https://my-domain/v2");
        idp.reply(OAUTH, Reply.json(v2));
        scheduler.fire(secondRetry);

        assertThat(scheduler.awaitPending().delay()).isEqualTo(REFRESH);
        assertThat(body(s.documentFor(OAUTH))).isEqualTo(v2);
        assertThat(s.cachedOrNull().authorizationPath()).isEqualTo("/v2/oauth/authorize");
        assertThat(s.failures()).isEqualTo(2);
        assertThat(s.refreshes()).isEqualTo(2);
    }

    @Test
    void concurrentCallersWhileEmptyShareOneFetch() throws Exception {
        idp.reply(OAUTH, Reply.json(doc("https://my-domain", "https://my-domain")));
        CountDownLatch gate = idp.hold(OAUTH);
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);
        int callers = 8;
        CyclicBarrier together = new CyclicBarrier(callers);
        List<CompletableFuture<ServerMetadata>> results = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicReference<Throwable> threadFailure = new AtomicReference<>();
        for (int i = 0; i < callers; i++) {
            CompletableFuture<ServerMetadata> slot = new CompletableFuture<>();
            results.add(slot);
            Thread t = new Thread(() -> {
                try {
                    together.await(5, TimeUnit.SECONDS);
                    s.current().whenComplete((md, err) -> {
                        if (err != null) {
                            slot.completeExceptionally(err);
                        } else {
                            slot.complete(md);
                        }
                    });
                } catch (Exception e) {
                    threadFailure.set(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(5_000);
        }
        CompletableFuture<Optional<Served>> served = s.documentForAsync(OAUTH);

        assertThat(threadFailure.get()).isNull();
        assertThat(results).noneMatch(CompletableFuture::isDone);
        gate.countDown();

        ServerMetadata first = await(results.get(0));
        for (CompletableFuture<ServerMetadata> r : results) {
            assertThat(await(r)).isSameAs(first);
        }
        assertThat(await(served).map(Served::status)).contains(200);
        assertThat(idp.count(OAUTH)).isEqualTo(1);
        assertThat(await(s.current())).isSameAs(first);
        assertThat(idp.count(OAUTH)).isEqualTo(1);
        assertThat(s.refreshes()).isEqualTo(1);
    }

    @Test
    void augmentationAddsScopesAndRewritesOriginButNeverTheIssuer() throws Exception {
        String upstream = idp.base().toString();
        String document = "{\"issuer\":\"" + upstream + "\","
                + "\"authorization_endpoint\":\"" + upstream + "/oauth/authorize?x=1\","
                + "\"token_endpoint\":\"" + upstream + "/oauth/token\","
                + "\"mtls_endpoint_aliases\":{\"token_endpoint\":\"" + upstream + "/mtls/token\"},"
                + "\"service_documentation\":\"https://docs.example/idp\","
                + "\"response_types_supported\":[\"code\"]}";
        idp.reply(OAUTH, new Reply(200, "application/json;charset=UTF-8", document.getBytes(StandardCharsets.UTF_8)));
        MetadataService s = service(PUBLIC, null, new Augment(List.of("worker:read", "people:read"), true));

        await(s.current());
        Served served = s.documentFor(OAUTH).orElseThrow();
        JsonNode json = JSON.readTree(served.body());

        assertThat(served.status()).isEqualTo(200);
        assertThat(served.contentType()).isEqualTo("application/json");
        assertThat(json.get("issuer").textValue()).isEqualTo(upstream);
        assertThat(json.get("authorization_endpoint").textValue()).isEqualTo("https://my-domain/oauth/authorize?x=1");
        assertThat(json.get("token_endpoint").textValue()).isEqualTo("https://my-domain/oauth/token");
        assertThat(json.at("/mtls_endpoint_aliases/token_endpoint").textValue()).isEqualTo("https://my-domain/mtls/token");
        assertThat(json.get("service_documentation").textValue()).isEqualTo("https://docs.example/idp");
        assertThat(json.get("scopes_supported").toString()).isEqualTo("[\"worker:read\",\"people:read\"]");
        // What scopegate learned is the IdP's own document.
        assertThat(s.cachedOrNull().scopesSupported()).isNull();
        assertThat(s.cachedOrNull().raw()).isEqualTo(document.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void servesTheExactBytesWhenNoAugmentationApplies() throws Exception {
        byte[] exact = ("{ \"token_endpoint\" :\"https://my-domain/t\",\n  \"issuer\":\"https://my-domain\" ,"
                + "\"n\": 1.50, \"scopes_supported\":[\"a\"], \"name\":\"\\u00e9t\u00e9\" }\n").getBytes(StandardCharsets.UTF_8);
        idp.reply(OAUTH, new Reply(200, "application/json; charset=utf-8", exact));
        // Configured, but nothing applies: the IdP lists scopes and names no upstream origin.
        MetadataService s = service(PUBLIC, null, new Augment(List.of("x"), true));

        await(s.current());
        Served served = s.documentFor(OAUTH).orElseThrow();

        assertThat(served.body()).isEqualTo(exact);
        assertThat(served.contentType()).isEqualTo("application/json; charset=utf-8");
    }

    @Test
    void reconfigureAppliesANewAugmentationToTheCachedCopy() throws Exception {
        String document = doc("https://my-domain", "https://my-domain");
        idp.reply(OAUTH, Reply.json(document));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);
        await(s.current());
        assertThat(body(s.documentFor(OAUTH))).isEqualTo(document);

        s.reconfigure(REFRESH, new Augment(List.of("x"), false));

        assertThat(JSON.readTree(body(s.documentFor(OAUTH))).get("scopes_supported").get(0).textValue()).isEqualTo("x");
        assertThat(idp.count(OAUTH)).isEqualTo(1);
    }

    @Test
    void presentsItselfAsAClientOfThePublicBaseUrl() throws Exception {
        idp.reply(OAUTH, Reply.json(doc("https://my-domain", "https://my-domain")));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);

        await(s.current());

        var seen = idp.lastHeaders(OAUTH);
        assertThat(seen.get("Host")).containsExactly("my-domain");
        assertThat(seen.getFirst("X-Forwarded-Host")).isEqualTo("my-domain");
        assertThat(seen.getFirst("X-Forwarded-Proto")).isEqualTo("https");
        assertThat(seen.getFirst("X-Forwarded-Port")).isEqualTo("443");
        assertThat(seen.getFirst("Accept")).isEqualTo("application/json");
    }

    @Test
    void forwardingHeadersKeepANonDefaultPortAndAreAbsentWithoutPublicBaseUrl() throws Exception {
        MetadataService withPort = service(URI.create("http://public.example:8080/base"), null, NO_AUGMENT);
        assertThat(withPort.requestHeaders()).containsEntry("Host", "public.example:8080")
                .containsEntry("X-Forwarded-Host", "public.example:8080")
                .containsEntry("X-Forwarded-Proto", "http")
                .containsEntry("X-Forwarded-Port", "8080");

        idp.reply(OAUTH, Reply.json(doc("https://my-domain", "https://my-domain")));
        MetadataService plain = service(null, null, NO_AUGMENT);
        assertThat(plain.requestHeaders()).isEmpty();
        await(plain.current());
        assertThat(idp.lastHeaders(OAUTH).getFirst("Host")).isEqualTo(idp.base().getAuthority());
        assertThat(idp.lastHeaders(OAUTH).containsKey("X-Forwarded-Host")).isFalse();
    }

    @Test
    void fallsBackToOpenIdConfigurationWhenTheOAuthDocumentIsMissing() throws Exception {
        String oidc = "{\"issuer\":\"https://my-domain\",\"authorization_endpoint\":\"https://my-domain/connect/authorize\","
                + "\"pushed_authorization_request_endpoint\":\"https://my-domain/connect/par\","
                + "\"authorization_response_iss_parameter_supported\":true}";
        idp.reply(OIDC, Reply.json(oidc));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);

        ServerMetadata md = await(s.current());

        assertThat(md.authorizationPath()).isEqualTo("/connect/authorize");
        assertThat(md.parPath()).isEqualTo("/connect/par");
        assertThat(md.issParameterSupported()).isTrue();
        assertThat(s.documentFor(OAUTH).map(Served::status)).contains(404);
        assertThat(body(s.documentFor(OIDC))).isEqualTo(oidc);
    }

    @Test
    void aDocumentThatIsNotJsonIsAFailure() throws Exception {
        idp.reply(OAUTH, Reply.json("<html>login</html>"));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);

        assertThat(failureOf(s.current()))
                .isInstanceOf(MetadataUnavailableException.class)
                .hasMessageContaining("not valid JSON");
        assertThat(s.failures()).isEqualTo(1);
        assertThat(s.documentFor(OAUTH).map(Served::status)).contains(503);
    }

    @Test
    void closeStopsTheSchedule() throws Exception {
        idp.reply(OAUTH, Reply.json(doc("https://my-domain", "https://my-domain")));
        MetadataService s = service(PUBLIC, null, NO_AUGMENT);
        s.start();
        StepScheduler.Pending refresh = scheduler.awaitPending();

        s.close();
        scheduler.fire(refresh);

        assertThat(refresh.handle().isCancelled()).isTrue();
        assertThat(idp.count(OAUTH)).isEqualTo(1);
        assertThat(s.ready()).isTrue();
    }

    /** A clock the test moves. */
    private static final class MutableClock extends Clock {
        private final AtomicReference<Instant> now;

        MutableClock(Instant start) {
            now = new AtomicReference<>(start);
        }

        void advance(Duration d) {
            now.updateAndGet(i -> i.plus(d));
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }
}
