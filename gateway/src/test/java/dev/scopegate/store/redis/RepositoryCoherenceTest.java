package dev.scopegate.store.redis;

import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationRepository;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.StoreException;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The repository hooks a shared store relies on: background refresh of old entries (also on the
 * hot path's cache peek), a failed refresh that keeps the entry, and dropping the whole cache.
 */
class RepositoryCoherenceTest {

    static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
    static final Duration REFRESH = Duration.ofMinutes(10);

    final AtomicLong nanos = new AtomicLong();
    final MapStore store = new MapStore();
    final RegistrationRepository repo = new RegistrationRepository(store, 100,
            RegistrationRepository.DEFAULT_UNKNOWN_MAX_SIZE, Duration.ofDays(30),
            RegistrationRepository.DEFAULT_NEGATIVE_TTL, REFRESH, nanos::get, Runnable::run,
            Clock.fixed(T0, ZoneOffset.UTC));

    static Registration reg(String scope) {
        return new Registration("c1", scope, List.of(), List.of(), null, null, null, T0, T0);
    }

    void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void anOldEntryIsReloadedInTheBackgroundEvenWhenOnlyPeekedAt() {
        store.map.put("c1", reg("old"));
        assertThat(repo.find("c1").join()).map(Registration::scope).contains("old");
        store.map.put("c1", reg("new")); // another replica wrote; its notification was lost

        advance(REFRESH.minusSeconds(1));
        assertThat(repo.findIfCached("c1")).map(Registration::scope).contains("old");
        assertThat(store.reads.get()).isEqualTo(1);

        advance(Duration.ofSeconds(2));
        // The peek triggers the reload (this store answers at once, so it may already see the result).
        assertThat(repo.findIfCached("c1")).map(Registration::scope).get().isIn("old", "new");
        assertThat(store.reads.get()).isEqualTo(2);
        assertThat(repo.findIfCached("c1")).map(Registration::scope).contains("new");
    }

    @Test
    void aFailedRefreshKeepsServingTheCachedEntry() {
        store.map.put("c1", reg("old"));
        repo.find("c1").join();
        store.failing = true;

        advance(REFRESH.plusSeconds(1));
        assertThat(repo.findIfCached("c1")).map(Registration::scope).contains("old");
        assertThat(repo.findIfCached("c1")).map(Registration::scope).contains("old");
        assertThat(repo.find("c1").join()).map(Registration::scope).contains("old");
    }

    @Test
    void invalidateAllDropsEveryEntry() {
        store.map.put("c1", reg("old"));
        repo.find("c1").join();
        repo.find("unknown").join();
        store.map.put("c1", reg("new"));

        repo.invalidateAll();

        assertThat(repo.findIfCached("c1")).isNull();
        assertThat(repo.findIfCached("unknown")).isNull();
        assertThat(repo.find("c1").join()).map(Registration::scope).contains("new");
    }

    /** An in-memory store that counts reads and can fail them. */
    static final class MapStore implements RegistrationStore {
        final Map<String, Registration> map = new ConcurrentHashMap<>();
        final AtomicInteger reads = new AtomicInteger();
        volatile boolean failing;

        @Override
        public CompletableFuture<Optional<Registration>> get(String clientId) {
            reads.incrementAndGet();
            return failing ? CompletableFuture.failedFuture(new StoreException("down"))
                    : CompletableFuture.completedFuture(Optional.ofNullable(map.get(clientId)));
        }

        @Override
        public CompletableFuture<Void> put(Registration registration) {
            map.put(registration.clientId(), registration);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> delete(String clientId) {
            return CompletableFuture.completedFuture(map.remove(clientId) != null);
        }

        @Override
        public CompletableFuture<Void> ping() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Long> count() {
            return CompletableFuture.completedFuture((long) map.size());
        }

        @Override
        public void close() {
        }
    }
}
