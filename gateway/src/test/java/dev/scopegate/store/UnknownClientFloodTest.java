package dev.scopegate.store;

import dev.scopegate.model.Registration;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Anyone can send authorization requests with made-up client_ids (issue 13): a flood of them
 * must cost bounded memory and must not push registrations out of the cache. Distinct unknown
 * ids go through the repository the way the router sends them (a peek, then a read-through
 * find); the store is in memory and counts its reads, so that the test measures the repository,
 * not disk. Each test prints what the flood cost.
 */
class UnknownClientFloodTest {

    private static final Instant T0 = Instant.parse("2025-11-25T10:00:00Z");
    private static final long UNKNOWN_MAX = RegistrationRepository.DEFAULT_UNKNOWN_MAX_SIZE;

    private final FakeTicker ticker = new FakeTicker();
    private final MemoryStore store = new MemoryStore();

    private RegistrationRepository repository(long registrationsMax) {
        return new RegistrationRepository(store, registrationsMax, UNKNOWN_MAX, Duration.ofDays(30),
                RegistrationRepository.DEFAULT_NEGATIVE_TTL, null, ticker, Runnable::run, Clock.fixed(T0, ZoneOffset.UTC));
    }

    /** A cache with room for twice its registrations, as an operator sizing it to the store would leave. */
    @Test
    void aMillionUnknownClientIdsCostBoundedMemoryAndEvictNoRegistration() {
        flood(repository(10_000), 5_000, 1_000_000);
    }

    /** The shipped cache.registrations.max-size: room for a million, which unknown ids must not take. */
    @Test
    void unknownClientIdsNeverGrowTheRegistrationsCacheAtItsShippedSize() {
        flood(repository(1_000_000), 100, 200_000);
    }

    private void flood(RegistrationRepository repo, int known, int flood) {
        for (int i = 0; i < known; i++) {
            repo.save(registered("known-" + i)).join();
        }
        for (int i = 0; i < known; i++) {
            assertThat(repo.find("known-" + i).join()).isPresent();
        }
        repo.cache().cleanUp();
        long cachedBefore = repo.estimatedSize();
        assertThat(cachedBefore).isEqualTo(known);
        int readsBefore = store.reads.get();

        long gcBefore = gcMillis();
        long started = System.nanoTime();
        long largestUnknown = 0;
        int answeredKnown = 0;
        for (int i = 0; i < flood; i++) {
            String id = "rnd-" + Integer.toHexString(i * 0x9E3779B1) + "-" + i;
            Optional<Registration> answer = repo.findIfCached(id);
            if (answer == null) {
                answer = repo.find(id).join();
            }
            if (answer.isPresent()) {
                answeredKnown++;
            }
            if (i % 1_000 == 0 || i == flood - 1) {
                largestUnknown = Math.max(largestUnknown, repo.estimatedUnknownSize());
            }
            if (i % 100_000 == 0) {
                ticker.advance(Duration.ofSeconds(10)); // the flood takes a while: negative entries age meanwhile
            }
        }
        long floodMillis = (System.nanoTime() - started) / 1_000_000;
        long floodGcMillis = gcMillis() - gcBefore;
        int floodReads = store.reads.get() - readsBefore;

        repo.cache().cleanUp();
        long cachedAfter = repo.estimatedSize();
        int readsBeforeKnown = store.reads.get();
        int stillCached = 0;
        for (int i = 0; i < known; i++) {
            Optional<Registration> cached = repo.findIfCached("known-" + i);
            if (cached != null && cached.isPresent()) {
                stillCached++;
            }
            assertThat(repo.find("known-" + i).join()).isPresent();
        }
        int knownReads = store.reads.get() - readsBeforeKnown;

        System.out.printf("unknown-client flood: %,d distinct unknown client_ids in %,d ms (%,d ms of it in GC,"
                        + " heap %,d MiB used of %,d after) -> %,d store reads; unknown-clients cache at most %,d"
                        + " entries (bound %,d); registrations cache (max %,d) held %,d before, %,d after,"
                        + " %,d of %,d registrations still cached, %,d store reads to find them again%n",
                flood, floodMillis, floodGcMillis, usedMiB(), Runtime.getRuntime().maxMemory() >> 20, floodReads,
                largestUnknown, UNKNOWN_MAX, repo.cache().policy().eviction().orElseThrow().getMaximum(),
                cachedBefore, cachedAfter, stillCached, known, knownReads);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(answeredKnown).as("flood ids answered as known").isZero();
        soft.assertThat(largestUnknown).as("unknown clients remembered, at most").isLessThanOrEqualTo(UNKNOWN_MAX);
        soft.assertThat(stillCached).as("registrations still cached after the flood").isEqualTo(known);
        soft.assertThat(knownReads).as("store reads to find the registrations again").isZero();
        soft.assertThat(cachedAfter).as("registrations cache size after the flood").isEqualTo(cachedBefore);
        soft.assertThat(repo.stats().evictionCount()).as("registrations evicted").isZero();
        soft.assertThat(floodReads).as("store reads of the flood: one per distinct id, none more").isEqualTo(flood);
        soft.assertAll();
    }

    private static Registration registered(String id) {
        return new Registration(id, "worker:read", List.of("https://chatgpt.com/cb"), List.of("authorization_code"),
                "ChatGPT", null, null, T0, T0);
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime).filter(t -> t > 0).sum();
    }

    private static long usedMiB() {
        Runtime rt = Runtime.getRuntime();
        return (rt.totalMemory() - rt.freeMemory()) >> 20;
    }

    /** An in-memory store completing at once, counting its reads. */
    private static final class MemoryStore implements RegistrationStore {
        final AtomicInteger reads = new AtomicInteger();
        private final ConcurrentHashMap<String, Registration> rows = new ConcurrentHashMap<>();

        @Override
        public CompletableFuture<Optional<Registration>> get(String clientId) {
            reads.incrementAndGet();
            return CompletableFuture.completedFuture(Optional.ofNullable(rows.get(clientId)));
        }

        @Override
        public CompletableFuture<Void> put(Registration registration) {
            rows.put(registration.clientId(), registration);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> delete(String clientId) {
            return CompletableFuture.completedFuture(rows.remove(clientId) != null);
        }

        @Override
        public CompletableFuture<Void> ping() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Long> count() {
            return CompletableFuture.completedFuture((long) rows.size());
        }

        @Override
        public void close() {
        }
    }
}
