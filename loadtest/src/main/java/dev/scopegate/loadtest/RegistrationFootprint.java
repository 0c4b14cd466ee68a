package dev.scopegate.loadtest;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.RegistrationDocuments;
import dev.scopegate.store.RegistrationJson;
import dev.scopegate.store.RegistrationRepository;
import dev.scopegate.store.RegistrationStore;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Measures the heap one cached registration costs: fills the gateway's {@link RegistrationRepository}
 * (the default 1,000,000-entry Caffeine cache, 30 d after access) with registrations captured the
 * way the gateway captures them ({@link RegistrationDocuments#fromDcrResponse} on a ChatGPT-like DCR
 * answer), through a store that keeps nothing, and compares the live heap after a full GC.
 *
 * <p>Usage: {@code java -Xmx300m -cp loadtest/target/benchmarks.jar
 * dev.scopegate.loadtest.RegistrationFootprint [COUNT [save|load]]}; prints one {@code FOOTPRINT}
 * line. An {@code OutOfMemoryError} means COUNT registrations do not fit in that heap. Mode
 * {@code save} (the default) fills the cache through {@code save}, as DCR capture does; mode
 * {@code load} first puts every registration into a store that keeps only its JSON document
 * (parsed on each read, as the SQLite and Redis stores do), then fills the cache through
 * {@code find} with a fresh {@code client_id} string per call, as requests do, and counts only
 * what the cache adds (the documents are in the heap before and after; give it more heap). With
 * {@code -Dfootprint.holdSeconds=N} it then keeps the filled cache alive N seconds, for a heap
 * histogram ({@code jmap -histo:live PID}).
 */
public final class RegistrationFootprint {

    private RegistrationFootprint() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        String mode = args.length > 1 ? args[1] : "save";
        if (!mode.equals("save") && !mode.equals("load")) {
            throw new IllegalArgumentException("mode is save or load: " + mode);
        }
        boolean load = mode.equals("load");
        JsonStore documents = new JsonStore();
        RegistrationRepository repo = new RegistrationRepository(load ? documents : new MemoryStore(false), 1_000_000,
                Duration.ofDays(30), Ticker.systemTicker(), Runnable::run, Clock.systemUTC());
        Instant now = Instant.now();
        if (load) {
            for (int i = 0; i < count; i++) {
                documents.put(captured(i, now));
            }
        }
        long before = liveHeap();
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if (load) {
                // A fresh client_id string, as parsed from a request; the store parses its document.
                repo.find(clientId(i)).join().orElseThrow();
            } else {
                repo.save(captured(i, now)).join();
            }
        }
        long fillMillis = (System.nanoTime() - started) / 1_000_000;
        long after = liveHeap();
        long size = repo.estimatedSize();
        double perEntry = (after - before) / (double) count;
        System.out.printf(java.util.Locale.ROOT,
                "FOOTPRINT mode=%s registrations=%d cached=%d heap_before=%d heap_after=%d bytes_per_registration=%.0f "
                        + "projected_1m_mib=%.1f max_heap_mib=%d fill_ms=%d%n",
                mode, count, size, before, after, perEntry, perEntry * 1_000_000 / (1024 * 1024),
                Runtime.getRuntime().maxMemory() / (1024 * 1024), fillMillis);
        if (repo.findIfCached(clientId(0)) == null) {
            throw new IllegalStateException("first registration was evicted: the measurement is wrong");
        }
        long holdSeconds = Long.getLong("footprint.holdSeconds", 0);
        if (holdSeconds > 0) {
            // Keeps the filled cache alive so `jmap -histo:live PID` can show where the bytes go.
            System.out.printf("HOLDING pid=%d for %d s%n", ProcessHandle.current().pid(), holdSeconds);
            Thread.sleep(holdSeconds * 1000);
            System.out.println("cached=" + repo.estimatedSize());
        }
    }

    private static final byte[] REQUEST = ("{\"client_name\":\"ChatGPT\",\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],"
            + "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],"
            + "\"token_endpoint_auth_method\":\"client_secret_basic\","
            + "\"scope\":\"worker:read time-off:read time-off:write contracts:read people:read\"}")
            .getBytes(StandardCharsets.UTF_8);

    private static String clientId(int i) {
        return new UUID(0x811703c8c50a4a49L + i, 0xa1190035430610cdL ^ (i * 0x9E3779B97F4A7C15L)).toString();
    }

    /** Client number {@code i} as the gateway captures it from a ChatGPT-like DCR exchange. */
    private static Registration captured(int i, Instant now) {
        String id = clientId(i);
        byte[] response = ("{\"client_id\":\"" + id + "\",\"client_secret\":\"s3cr3t-" + i + "\","
                + "\"registration_access_token\":\"rat-" + i + "\",\"registration_client_uri\":"
                + "\"https://idp.example.com/oauth/register/" + id + "\","
                + "\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],"
                + "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"client_name\":\"ChatGPT\","
                + "\"scope\":\"worker:read time-off:read time-off:write contracts:read people:read\"}")
                .getBytes(StandardCharsets.UTF_8);
        return RegistrationDocuments.fromDcrResponse(response, REQUEST, now).orElseThrow();
    }

    private static long liveHeap() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    /** Keeps each registration as its JSON document and parses it on every read, like the real stores. */
    private static final class JsonStore implements RegistrationStore {
        private final ConcurrentMap<String, String> documents = new ConcurrentHashMap<>();

        @Override
        public CompletableFuture<Optional<Registration>> get(String clientId) {
            String doc = documents.get(clientId);
            return CompletableFuture.completedFuture(Optional.ofNullable(doc).map(RegistrationJson::fromJson));
        }

        @Override
        public CompletableFuture<Void> put(Registration registration) {
            documents.put(registration.clientId(), RegistrationJson.toJson(registration));
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> delete(String clientId) {
            return CompletableFuture.completedFuture(documents.remove(clientId) != null);
        }

        @Override
        public CompletableFuture<Void> ping() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Long> count() {
            return CompletableFuture.completedFuture((long) documents.size());
        }

        @Override
        public void close() {
        }
    }
}
