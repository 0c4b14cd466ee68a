package dev.scopegate.oauth.document;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.config.ScopegateConfig;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientIdMetadataDocumentsTest {

    private static final ScopegateConfig.Document GUARDED = new ScopegateConfig.Document(false, 5120, Duration.ofSeconds(5));
    private static final ScopegateConfig.Document PRIVATE_OK = new ScopegateConfig.Document(true, 5120, Duration.ofSeconds(5));

    private final AtomicLong nanos = new AtomicLong();
    private final FakeFetcher fake = new FakeFetcher();
    private final FakeResolver resolver = new FakeResolver();
    private static final JdkHttpFetcher HTTP = new JdkHttpFetcher();
    private TestServer server;

    @BeforeEach
    void start() throws Exception {
        // The fake answers any URL with a valid document naming it, so an empty result is the guard's doing.
        fake.answer(uri -> CompletableFuture.completedFuture(
                FakeFetcher.response(200, document(uri.toString(), "a b"), Map.of())));
        resolver.put("public.example", "93.184.216.34");
        resolver.put("loopback.example", "127.0.0.1");
        resolver.put("private10.example", "10.0.0.7");
        resolver.put("private172.example", "172.31.255.1");
        resolver.put("private192.example", "192.168.1.20");
        resolver.put("linklocal.example", "169.254.10.1");
        resolver.put("metadata.example", "169.254.169.254");
        resolver.put("cgnat.example", "100.64.1.1");
        resolver.put("multicast.example", "239.1.2.3");
        resolver.put("unspecified.example", "0.0.0.0");
        resolver.put("ula.example", "fd12:3456::1");
        resolver.put("v6linklocal.example", "fe80::1");
        resolver.put("v6loopback.example", "::1");
        resolver.put("mixed.example", "93.184.216.34", "10.0.0.1");
        resolver.addresses.put("mapped.example", new InetAddress[] {mappedV6(127, 0, 0, 1)});
        resolver.addresses.put("mapped-metadata.example", new InetAddress[] {mappedV6(169, 254, 169, 254)});
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A real local server, started on first use. */
    private TestServer server() throws Exception {
        if (server == null) {
            server = new TestServer();
        }
        return server;
    }

    // --- SSRF guards --------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
            "http://public.example/app.json",               // https only
            "https://public.example",                       // no path
            "https://public.example?x=1",                   // no path
            "https://user@public.example/app.json",         // user info
            "https://user:pw@public.example/app.json",
            "https://@public.example/app.json",
            "https://public.example/app.json#x",            // fragment
            "https://public.example/app.json#",
            "https://public.example/a/../app.json",         // dot segments
            "https://public.example/./app.json",
            "https://public.example/a/%2e%2E/app.json",
            "https://public.example/a/..",
            "https://127.1/app.json",                       // ambiguous numeric hosts
            "https://2130706433/app.json",
            "https://0177.0.0.1/app.json",
            "https://1.2.3.4.5/app.json",
            "https://bad_host.example/app.json",
            "https://public.example/a b",
            "https:public.example/app.json",
    })
    void urlsBreakingTheSyntaxRulesAreNeverFetched(String clientId) throws Exception {
        ClientIdMetadataDocuments docs = documents(GUARDED);

        assertThat(docs.lookup(clientId).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(docs.cachedOrNull(clientId)).isEmpty();
        assertThat(fake.calls).isEmpty();
        assertThat(resolver.calls).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "https://127.0.0.1/app.json",
            "https://10.1.2.3/app.json",
            "https://172.16.0.1/app.json",
            "https://192.168.0.1/app.json",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/app.json",
            "https://0.0.0.0/app.json",
            "https://224.0.0.1/app.json",
            "https://255.255.255.255/app.json",
            "https://[::1]/app.json",
            "https://[::]/app.json",
            "https://[fc00::1]/app.json",
            "https://[fd00:ec2::254]/app.json",
            "https://[fe80::1]/app.json",
            "https://[ff02::1]/app.json",
            "https://[::ffff:127.0.0.1]/app.json",
            "https://[::ffff:10.0.0.1]/app.json",
            "https://[::ffff:a9fe:a9fe]/app.json",
            "https://[64:ff9b::7f00:1]/app.json",
            "https://[2002:c0a8:0101::1]/app.json",
    })
    void literalNonPublicAddressesAreNeverFetched(String clientId) throws Exception {
        ClientIdMetadataDocuments docs = documents(GUARDED);

        assertThat(docs.lookup(clientId).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(fake.calls).isEmpty();
        assertThat(resolver.calls).as("literals need no DNS").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "loopback", "private10", "private172", "private192", "linklocal", "metadata", "cgnat", "multicast",
            "unspecified", "ula", "v6linklocal", "v6loopback", "mixed", "mapped", "mapped-metadata", "unknown",
    })
    void namesResolvingToNonPublicAddressesAreNeverFetched(String name) throws Exception {
        ClientIdMetadataDocuments docs = documents(GUARDED);
        String clientId = "https://" + name + ".example/app.json";

        assertThat(docs.lookup(clientId).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(resolver.calls).containsExactly(name + ".example");
        assertThat(fake.calls).isEmpty();
    }

    @Test
    void publicNamesAndLiteralsAreFetched() throws Exception {
        ClientIdMetadataDocuments docs = documents(GUARDED);

        assertThat(docs.lookup("https://public.example/app.json").get(5, TimeUnit.SECONDS))
                .contains(new ClientDocument("https://public.example/app.json", "a b", List.of("https://app.example/cb")));
        assertThat(docs.lookup("https://93.184.216.34:8443/app.json?v=1").get(5, TimeUnit.SECONDS)).isPresent();
        assertThat(fake.calls).extracting(c -> c.uri().toString())
                .containsExactly("https://public.example/app.json", "https://93.184.216.34:8443/app.json?v=1");
        assertThat(fake.calls.get(0).maxBytes()).isEqualTo(5120);
        assertThat(fake.calls.get(0).timeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void allowPrivateLetsLoopbackThroughButNeverCloudMetadata() throws Exception {
        ClientIdMetadataDocuments docs = documents(PRIVATE_OK);

        assertThat(docs.lookup("https://loopback.example/app.json").get(5, TimeUnit.SECONDS)).isPresent();
        assertThat(docs.lookup("http://10.0.0.1/app.json").get(5, TimeUnit.SECONDS)).isPresent();
        assertThat(docs.lookup("https://169.254.169.254/latest/meta-data/").get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(docs.lookup("https://metadata.example/app.json").get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(docs.lookup("https://[fd00:ec2::254]/app.json").get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(fake.calls).hasSize(2);
    }

    @Test
    void plainHttpIsRefusedWithoutAllowPrivateEvenForALocalServer() throws Exception {
        ClientIdMetadataDocuments docs = new ClientIdMetadataDocuments(GUARDED, HTTP, resolver, Runnable::run, nanos::get);

        assertThat(docs.lookup(server().origin() + "/client.json").get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(server().totalRequests()).isZero();
    }

    @Test
    void clientIdsThatAreNotUrlsAreNotDocuments() throws Exception {
        ClientIdMetadataDocuments docs = documents(GUARDED);

        for (String id : new String[] {"811703c8-c50a-4a49-a119-0035430610cd", "", "ftp://x.example/a", "urn:x"}) {
            assertThat(ClientIdMetadataDocuments.isDocumentUrl(id)).isFalse();
            assertThat(docs.lookup(id).get(5, TimeUnit.SECONDS)).isEmpty();
            assertThat(docs.cachedOrNull(id)).isEmpty();
        }
        assertThat(docs.lookup(null).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(ClientIdMetadataDocuments.isDocumentUrl("HTTPS://x.example/a")).isTrue();
        assertThat(fake.calls).isEmpty();
    }

    @Test
    void dnsRunsOnTheResolverExecutorNotTheCaller() throws Exception {
        ExecutorService dns = Resolver.newExecutor(1);
        try {
            ClientIdMetadataDocuments docs = new ClientIdMetadataDocuments(GUARDED, fake, resolver, dns, nanos::get);
            assertThat(docs.lookup("https://public.example/app.json").get(5, TimeUnit.SECONDS)).isPresent();
            assertThat(resolver.threads).containsExactly("scopegate-dns-1");
        } finally {
            dns.shutdownNow();
        }
    }

    @Test
    void aHangingResolverTimesOutToEmpty() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService dns = Executors.newSingleThreadExecutor();
        try {
            Resolver hanging = host -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new UnknownHostException(host);
            };
            ScopegateConfig.Document quick = new ScopegateConfig.Document(false, 5120, Duration.ofMillis(100));
            ClientIdMetadataDocuments docs = new ClientIdMetadataDocuments(quick, fake, hanging, dns, nanos::get);
            assertThat(docs.lookup("https://public.example/app.json").get(5, TimeUnit.SECONDS)).isEmpty();
            assertThat(fake.calls).isEmpty();
        } finally {
            release.countDown();
            dns.shutdownNow();
        }
    }

    @Test
    void aRejectingResolverExecutorYieldsEmpty() throws Exception {
        ClientIdMetadataDocuments docs = new ClientIdMetadataDocuments(GUARDED, fake, resolver, r -> {
            throw new java.util.concurrent.RejectedExecutionException("full");
        }, nanos::get);

        assertThat(docs.lookup("https://public.example/app.json").get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(docs.cachedOrNull("https://public.example/app.json")).as("an overload is not remembered").isNull();
        assertThat(fake.calls).isEmpty();
    }

    @Test
    void atMostSixtyFourFetchesRunAtOnce() throws Exception {
        fake.answer(uri -> fake.pending.computeIfAbsent(uri, u -> new CompletableFuture<>()));
        ClientIdMetadataDocuments docs = documents(GUARDED);
        List<CompletableFuture<Optional<ClientDocument>>> running = new ArrayList<>();
        for (int i = 0; i < ClientIdMetadataDocuments.MAX_IN_FLIGHT; i++) {
            running.add(docs.lookup("https://93.184.216.34/c" + i));
        }
        CompletableFuture<Optional<ClientDocument>> refused = docs.lookup("https://93.184.216.34/over");

        assertThat(refused).isCompletedWithValue(Optional.empty());
        assertThat(fake.calls).hasSize(ClientIdMetadataDocuments.MAX_IN_FLIGHT);
        assertThat(docs.cachedOrNull("https://93.184.216.34/over")).as("a refusal is not remembered").isNull();

        URI first = URI.create("https://93.184.216.34/c0");
        fake.pending.get(first).complete(FakeFetcher.response(200, document(first.toString(), "s"), Map.of()));
        assertThat(running.get(0).get(5, TimeUnit.SECONDS)).isPresent();
        docs.lookup("https://93.184.216.34/over");
        assertThat(fake.calls).hasSize(ClientIdMetadataDocuments.MAX_IN_FLIGHT + 1);
    }

    // --- document validation (real server, allow-private) ------------------------------------

    @Test
    void happyPathThroughARealServer() throws Exception {
        String id = server().origin() + "/client.json";
        server().answer("/client.json", TestServer.Canned.json(document(id, "worker:read people:read"),
                Map.of("Content-Type", "application/json", "Cache-Control", "max-age=600")));
        ClientIdMetadataDocuments docs = realDocuments(PRIVATE_OK);

        assertThat(docs.cachedOrNull(id)).isNull();
        Optional<ClientDocument> doc = docs.lookup(id).get(5, TimeUnit.SECONDS);
        assertThat(doc).contains(new ClientDocument(id, "worker:read people:read", List.of("https://app.example/cb")));
        awaitLoads(docs, 1);
        assertThat(docs.lookup(id).get(5, TimeUnit.SECONDS)).isEqualTo(doc);
        assertThat(docs.cachedOrNull(id)).isEqualTo(doc);
        assertThat(server().requests("/client.json")).isEqualTo(1);
    }

    @Test
    void documentWithoutScopeHasANullScope() throws Exception {
        String id = server().origin() + "/noscope.json";
        server().answer("/noscope.json", TestServer.Canned.json("{\"client_id\":\"" + id + "\"}", Map.of()));

        assertThat(realDocuments(PRIVATE_OK).lookup(id).get(5, TimeUnit.SECONDS))
                .contains(new ClientDocument(id, null, List.of()));
    }

    @Test
    void clientIdMismatchIsRejected() throws Exception {
        String id = server().origin() + "/client.json";
        server().answer("/client.json", TestServer.Canned.json(document(server().origin() + "/client.json?", "a"), Map.of()));
        server().answer("/other.json", TestServer.Canned.json(document("https://evil.example/other.json", "a"), Map.of()));
        ClientIdMetadataDocuments docs = realDocuments(PRIVATE_OK);

        assertThat(docs.lookup(id).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(docs.lookup(server().origin() + "/other.json").get(5, TimeUnit.SECONDS)).isEmpty();
        awaitLoads(docs, 2);
        assertThat(docs.lookup(id).get(5, TimeUnit.SECONDS)).as("negative result cached").isEmpty();
        assertThat(server().requests("/client.json")).isEqualTo(1);
    }

    @Test
    void oversizedDocumentIsRejected() throws Exception {
        String id = server().origin() + "/big.json";
        String padding = "x".repeat(10_000);
        server().answer("/big.json", TestServer.Canned.json(
                "{\"client_id\":\"" + id + "\",\"scope\":\"a\",\"client_name\":\"" + padding + "\"}", Map.of()));
        ClientIdMetadataDocuments docs = realDocuments(new ScopegateConfig.Document(true, 1024, Duration.ofSeconds(5)));

        assertThat(docs.lookup(id).get(5, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void noStoreIsNotCached() throws Exception {
        String id = server().origin() + "/client.json";
        server().answer("/client.json", TestServer.Canned.json(document(id, "a"), Map.of("Cache-Control", "no-store")));
        ClientIdMetadataDocuments docs = realDocuments(PRIVATE_OK);

        assertThat(docs.lookup(id).get(5, TimeUnit.SECONDS)).isPresent();
        awaitLoads(docs, 1);
        assertThat(docs.cachedOrNull(id)).isNull();
        assertThat(docs.lookup(id).get(5, TimeUnit.SECONDS)).isPresent();
        assertThat(server().requests("/client.json")).isEqualTo(2);
    }

    @Test
    void redirectsAreNotFollowed() throws Exception {
        String id = server().origin() + "/moved.json";
        server().answer("/moved.json", new TestServer.Canned(302, Map.of("Location", "/client.json"), new byte[0]));
        server().answer("/client.json", TestServer.Canned.json(document(id, "a"), Map.of()));

        assertThat(realDocuments(PRIVATE_OK).lookup(id).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(server().requests("/client.json")).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"client_id\":\"ID\",\"client_secret\":\"s3cret\"}",
            "{\"client_id\":\"ID\",\"token_endpoint_auth_method\":\"client_secret_basic\"}",
            "{\"client_id\":\"ID\",\"scope\":[\"a\"]}",
            "{\"client_id\":\"ID\",\"redirect_uris\":\"https://app.example/cb\"}",
            "{\"client_id\":\"ID\",\"redirect_uris\":[1]}",
            "{\"client_id\":\"ID\",\"client_id\":\"ID\"}",
            "{\"client_id\":\"ID\"} trailing",
            "[\"ID\"]",
            "not json",
            "",
    })
    void invalidDocumentsAreRejected(String body) throws Exception {
        String id = "https://public.example/app.json";
        fake.answerJson(200, body.replace("ID", id), Map.of());

        assertThat(documents(GUARDED).lookup(id).get(5, TimeUnit.SECONDS)).isEmpty();
        assertThat(fake.calls).hasSize(1);
    }

    @Test
    void nonOkStatusIsRejected() throws Exception {
        String id = "https://public.example/app.json";
        fake.answerJson(404, document(id, "a"), Map.of());
        assertThat(documents(GUARDED).lookup(id).get(5, TimeUnit.SECONDS)).isEmpty();
    }

    // --- caching logic (fake fetcher and ticker) ---------------------------------------------

    @Test
    void maxAgeIsHonouredAndClampedToADay() throws Exception {
        String id = "https://public.example/app.json";
        ClientIdMetadataDocuments docs = documents(GUARDED);
        fake.answerJson(200, document(id, "a"), Map.of("cache-control", List.of("max-age=900")));

        docs.lookup(id).get();
        advance(Duration.ofSeconds(899));
        assertThat(docs.cachedOrNull(id)).isPresent();
        advance(Duration.ofSeconds(2));
        assertThat(docs.cachedOrNull(id)).isNull();

        fake.answerJson(200, document(id, "a"), Map.of("cache-control", List.of("max-age=9999999")));
        docs.lookup(id).get();
        advance(Duration.ofHours(24).minusSeconds(1));
        assertThat(docs.cachedOrNull(id)).isPresent();
        advance(Duration.ofSeconds(2));
        assertThat(docs.cachedOrNull(id)).isNull();
        assertThat(fake.calls).hasSize(2);
    }

    @Test
    void shortMaxAgeAndNoCacheGetOneMinute() throws Exception {
        String id = "https://public.example/app.json";
        ClientIdMetadataDocuments docs = documents(GUARDED);
        fake.answerJson(200, document(id, "a"), Map.of("cache-control", List.of("no-cache")));

        docs.lookup(id).get();
        advance(Duration.ofSeconds(59));
        assertThat(docs.cachedOrNull(id)).isPresent();
        advance(Duration.ofSeconds(2));
        assertThat(docs.cachedOrNull(id)).isNull();
    }

    @Test
    void ageIsSubtractedFromMaxAge() throws Exception {
        String id = "https://public.example/app.json";
        ClientIdMetadataDocuments docs = documents(GUARDED);
        fake.answerJson(200, document(id, "a"), Map.of("cache-control", List.of("max-age=600"), "age", List.of("300")));

        docs.lookup(id).get();
        advance(Duration.ofSeconds(301));
        assertThat(docs.cachedOrNull(id)).isNull();
    }

    @Test
    void failuresAreRememberedForOneMinute() throws Exception {
        String id = "https://public.example/app.json";
        ClientIdMetadataDocuments docs = documents(GUARDED);
        fake.answerJson(500, "", Map.of("cache-control", List.of("max-age=86400")));

        assertThat(docs.lookup(id).get()).isEmpty();
        advance(Duration.ofSeconds(59));
        assertThat(docs.cachedOrNull(id)).isEmpty();
        assertThat(docs.lookup(id).get()).isEmpty();
        assertThat(fake.calls).hasSize(1);
        advance(Duration.ofSeconds(2));
        fake.answerJson(200, document(id, "a"), Map.of());
        assertThat(docs.lookup(id).get()).isPresent();
        assertThat(fake.calls).hasSize(2);
    }

    @Test
    void blockedHostsAreRememberedSoDnsIsNotAskedAgain() throws Exception {
        ClientIdMetadataDocuments docs = documents(GUARDED);
        String id = "https://loopback.example/app.json";

        docs.lookup(id).get();
        docs.lookup(id).get();
        assertThat(resolver.calls).hasSize(1);
        advance(Duration.ofSeconds(61));
        docs.lookup(id).get();
        assertThat(resolver.calls).hasSize(2);
    }

    @Test
    void concurrentLookupsShareOneFetch() throws Exception {
        fake.answer(uri -> fake.pending.computeIfAbsent(uri, u -> new CompletableFuture<>()));
        ClientIdMetadataDocuments docs = documents(GUARDED);
        String id = "https://public.example/app.json";

        CompletableFuture<Optional<ClientDocument>> a = docs.lookup(id);
        CompletableFuture<Optional<ClientDocument>> b = docs.lookup(id);
        assertThat(docs.cachedOrNull(id)).isNull();
        assertThat(fake.calls).hasSize(1);
        fake.pending.get(URI.create(id)).complete(FakeFetcher.response(200, document(id, "s"), Map.of()));
        assertThat(a.get().orElseThrow().scope()).isEqualTo("s");
        assertThat(b.get().orElseThrow().scope()).isEqualTo("s");
    }

    // --- helpers -----------------------------------------------------------------------------

    private ClientIdMetadataDocuments documents(ScopegateConfig.Document config) {
        return new ClientIdMetadataDocuments(config, fake, resolver, Runnable::run, nanos::get);
    }

    private ClientIdMetadataDocuments realDocuments(ScopegateConfig.Document config) {
        return new ClientIdMetadataDocuments(config, HTTP, resolver, Runnable::run, nanos::get);
    }

    private void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    private static String document(String clientId, String scope) {
        return "{\"client_id\":\"" + clientId + "\",\"client_name\":\"App\",\"scope\":\"" + scope
                + "\",\"redirect_uris\":[\"https://app.example/cb\"],\"token_endpoint_auth_method\":\"none\"}";
    }

    private static InetAddress mappedV6(int a, int b, int c, int d) throws UnknownHostException {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xff;
        bytes[11] = (byte) 0xff;
        bytes[12] = (byte) a;
        bytes[13] = (byte) b;
        bytes[14] = (byte) c;
        bytes[15] = (byte) d;
        InetAddress address = Inet6Address.getByAddress(null, bytes, -1);
        assertThat(address).isInstanceOf(Inet6Address.class);
        return address;
    }

    private static void awaitLoads(ClientIdMetadataDocuments docs, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (docs.stats().loadCount() < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(docs.stats().loadCount()).isGreaterThanOrEqualTo(n);
    }

    /** Names to literal addresses; anything else is unknown. Records each call and its thread. */
    private static final class FakeResolver implements Resolver {
        final Map<String, InetAddress[]> addresses = new ConcurrentHashMap<>();
        final List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

        void put(String host, String... literals) {
            InetAddress[] list = new InetAddress[literals.length];
            for (int i = 0; i < literals.length; i++) {
                try {
                    list[i] = InetAddress.getByName(literals[i]);   // literals only: no DNS
                } catch (UnknownHostException e) {
                    throw new IllegalArgumentException(e);
                }
            }
            addresses.put(host, list);
        }

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            calls.add(host);
            threads.add(Thread.currentThread().getName());
            InetAddress[] found = addresses.get(host);
            if (found == null) {
                throw new UnknownHostException(host);
            }
            return found.clone();
        }
    }
}
