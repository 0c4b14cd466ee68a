package dev.scopegate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.store.MeteredRegistrationStore;
import dev.scopegate.metrics.MetricsRegistry;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.ClientIdMetadataDocuments;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.proxy.Transport;
import dev.scopegate.store.RegistrationRepository;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.StoreException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code health.store-required} on a real admin listener whose store stops answering: by default
 * {@code /readyz} stays 200 and says {@code "store": false}; with {@code store-required: true} it
 * is 503. The setting is read per probe (hot-reloadable), and each probe's ping sets
 * {@code scopegate_store_up}. The store is in memory; only its ping can be made to fail.
 */
class ReadinessPolicyTest {

    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();
    final AtomicReference<ScopegateConfig> config = new AtomicReference<>();
    final AtomicBoolean storeDown = new AtomicBoolean();
    ExecutorService executor;
    Transport transport;
    MetricsRegistry metrics;
    AdminServer admin;

    static ScopegateConfig config(boolean storeRequired) throws Exception {
        return new ConfigLoader(name -> null).parse("health: {store-required: " + storeRequired + "}\n", "t.yaml");
    }

    @BeforeEach
    void start() throws Exception {
        config.set(config(false));
        executor = Executors.newCachedThreadPool();
        transport = Transport.create(1, false);
        metrics = MetricsRegistry.create();
        MeteredRegistrationStore store = new MeteredRegistrationStore(new PingFails(new MemoryStore(), storeDown),
                metrics.registry());
        RegistrationRepository registrations = new RegistrationRepository(store, 1000, Duration.ofDays(1),
                Ticker.systemTicker(), executor, Clock.systemUTC());
        ScopegateConfig c = config.get();
        ResourceMetadataCache resources = new ResourceMetadataCache(c.resources(), Set.of(),
                (uri, headers, maxBytes, timeout) -> CompletableFuture.failedFuture(new IllegalStateException("no fetch")),
                System::nanoTime);
        ClientIdMetadataDocuments documents = new ClientIdMetadataDocuments(c.scope().document(),
                (uri, headers, maxBytes, timeout) -> CompletableFuture.failedFuture(new IllegalStateException("no fetch")),
                host -> new InetAddress[0], executor, System::nanoTime);
        ScopeNormalizer normalizer = new ScopeNormalizer(() -> new ScopeResolver(config.get().scope()), registrations,
                () -> null, resources, documents);
        admin = new AdminServer(transport, "127.0.0.1", 0, config::get, metrics.registry(),
                new AdminServer.Readiness(() -> true, store::ping), registrations, normalizer).start();
    }

    @AfterEach
    void stop() {
        if (admin != null) {
            admin.close();
        }
        transport.close();
        metrics.close();
        executor.shutdownNow();
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode readyz(int expectedStatus) throws Exception {
        HttpResponse<String> r = get("/readyz");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expectedStatus);
        return json.readTree(r.body());
    }

    @Test
    void aStoreOutageShowsInReadyzAndTheGaugeButIsNotReadinessByDefault() throws Exception {
        JsonNode up = readyz(200);
        assertThat(up.get("ready").asBoolean()).isTrue();
        assertThat(up.get("store").asBoolean()).isTrue();
        assertThat(get("/metrics").body()).contains("scopegate_store_up 1.0");

        storeDown.set(true);
        JsonNode down = readyz(200);
        assertThat(down.get("ready").asBoolean()).isTrue();
        assertThat(down.get("store").asBoolean()).isFalse();
        assertThat(down.get("metadata").asBoolean()).isTrue();
        assertThat(get("/metrics").body()).contains("scopegate_store_up 0.0");
    }

    @Test
    void withStoreRequiredAStoreOutageIsNotReadyAndTheSettingIsReadPerProbe() throws Exception {
        config.set(config(true));
        assertThat(readyz(200).get("ready").asBoolean()).isTrue();

        storeDown.set(true);
        JsonNode down = readyz(503);
        assertThat(down.get("ready").asBoolean()).isFalse();
        assertThat(down.get("store").asBoolean()).isFalse();

        config.set(config(false)); // a reload that relaxes the policy applies to the next probe
        assertThat(readyz(200).get("store").asBoolean()).isFalse();
        config.set(config(true));
        storeDown.set(false);
        assertThat(readyz(200).get("store").asBoolean()).isTrue();
        assertThat(get("/metrics").body()).contains("scopegate_store_up 1.0");
    }

    /** A store whose ping fails while {@code down} is set; everything else goes to {@code delegate}. */
    record PingFails(RegistrationStore delegate, AtomicBoolean down) implements RegistrationStore {
        @Override
        public CompletableFuture<Optional<Registration>> get(String clientId) {
            return delegate.get(clientId);
        }

        @Override
        public CompletableFuture<Void> put(Registration registration) {
            return delegate.put(registration);
        }

        @Override
        public CompletableFuture<Void> putAll(List<Registration> registrations) {
            return delegate.putAll(registrations);
        }

        @Override
        public CompletableFuture<Boolean> delete(String clientId) {
            return delegate.delete(clientId);
        }

        @Override
        public CompletableFuture<Void> ping() {
            return down.get() ? CompletableFuture.failedFuture(new StoreException("store unreachable (test)"))
                    : delegate.ping();
        }

        @Override
        public CompletableFuture<Long> count() {
            return delegate.count();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
