package dev.scopegate.loadtest;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.oauth.Registration;
import dev.scopegate.oauth.RegistrationDocuments;
import dev.scopegate.store.RegistrationRepository;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Measures the heap one cached registration costs: fills the gateway's {@link RegistrationRepository}
 * (the default 1,000,000-entry Caffeine cache, 30 d after access) with registrations captured the
 * way the gateway captures them ({@link RegistrationDocuments#fromDcrResponse} on a ChatGPT-like DCR
 * answer), through a store that keeps nothing, and compares the live heap after a full GC.
 *
 * <p>Usage: {@code java -Xmx300m -cp loadtest/target/benchmarks.jar
 * dev.scopegate.loadtest.RegistrationFootprint [COUNT]}; prints one {@code FOOTPRINT} line. An
 * {@code OutOfMemoryError} means COUNT registrations do not fit in that heap. With
 * {@code -Dfootprint.holdSeconds=N} it then keeps the filled cache alive N seconds, for a heap
 * histogram ({@code jmap -histo:live PID}).
 */
public final class RegistrationFootprint {

    private RegistrationFootprint() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        RegistrationRepository repo = new RegistrationRepository(new MemoryStore(false), 1_000_000,
                Duration.ofDays(30), Ticker.systemTicker(), Runnable::run, Clock.systemUTC());
        long before = liveHeap();
        Instant now = Instant.now();
        byte[] request = ("{\"client_name\":\"ChatGPT\",\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],"
                + "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"client_secret_basic\","
                + "\"scope\":\"worker:read time-off:read time-off:write contracts:read people:read\"}")
                .getBytes(StandardCharsets.UTF_8);
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            String id = new UUID(0x811703c8c50a4a49L + i, 0xa1190035430610cdL ^ (i * 0x9E3779B97F4A7C15L)).toString();
            byte[] response = ("{\"client_id\":\"" + id + "\",\"client_secret\":\"s3cr3t-" + i + "\","
                    + "\"registration_access_token\":\"rat-" + i + "\",\"registration_client_uri\":"
                    + "\"https://idp.example.com/oauth/register/" + id + "\","
                    + "\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],"
                    + "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"client_name\":\"ChatGPT\","
                    + "\"scope\":\"worker:read time-off:read time-off:write contracts:read people:read\"}")
                    .getBytes(StandardCharsets.UTF_8);
            Optional<Registration> reg = RegistrationDocuments.fromDcrResponse(response, request, now);
            repo.save(reg.orElseThrow()).join();
        }
        long fillMillis = (System.nanoTime() - started) / 1_000_000;
        long after = liveHeap();
        long size = repo.estimatedSize();
        double perEntry = (after - before) / (double) count;
        System.out.printf(java.util.Locale.ROOT,
                "FOOTPRINT registrations=%d cached=%d heap_before=%d heap_after=%d bytes_per_registration=%.0f "
                        + "projected_1m_mib=%.1f max_heap_mib=%d fill_ms=%d%n",
                count, size, before, after, perEntry, perEntry * 1_000_000 / (1024 * 1024),
                Runtime.getRuntime().maxMemory() / (1024 * 1024), fillMillis);
        if (repo.findIfCached(new UUID(0x811703c8c50a4a49L, 0xa1190035430610cdL).toString()) == null) {
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
}
