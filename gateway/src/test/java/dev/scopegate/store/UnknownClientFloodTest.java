package dev.scopegate.store;

import dev.scopegate.oauth.Registration;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Anyone can send authorization requests with made-up client_ids (issue 13): a flood of them
 * must cost bounded memory and must not push registrations out of the cache. One million
 * distinct unknown ids go through the repository the way the router sends them (a peek, then a
 * read-through find); the store is in memory so that the test measures the repository, not disk.
 */
class UnknownClientFloodTest {

    private static final Instant T0 = Instant.parse("2025-11-25T10:00:00Z");
    private static final int FLOOD = 1_000_000;
    private static final int KNOWN = 5_000;
    /** Room for twice the registrations: what an operator sizing the cache to the store would leave. */
    private static final long REGISTRATIONS_MAX = 2L * KNOWN;
    private static final long UNKNOWN_MAX = RegistrationRepository.DEFAULT_UNKNOWN_MAX_SIZE;

    private final FakeTicker ticker = new FakeTicker();
    private final CountingStore store = new CountingStore(new MemoryStore());
    private final RegistrationRepository repo = new RegistrationRepository(store, REGISTRATIONS_MAX, UNKNOWN_MAX,
            Duration.ofDays(30), RegistrationRepository.DEFAULT_NEGATIVE_TTL, null, ticker, Runnable::run,
            Clock.fixed(T0, ZoneOffset.UTC));

    private static Registration registered(String id) {
        return new Registration(id, "worker:read", List.of("https://chatgpt.com/cb"), List.of("authorization_code"),
                "ChatGPT", null, null, T0, T0);
    }

    @Test
    void aMillionUnknownClientIdsCostBoundedMemoryAndEvictNoRegistration() {
        for (int i = 0; i < KNOWN; i++) {
            repo.save(registered("known-" + i)).join();
        }
        for (int i = 0; i < KNOWN; i++) {
            assertThat(repo.find("known-" + i).join()).isPresent();
        }
        repo.cache().cleanUp();
        long cachedBefore = repo.estimatedSize();
        assertThat(cachedBefore).isEqualTo(KNOWN);
        int readsBefore = store.reads.get();

        long started = System.nanoTime();
        long largestUnknown = 0;
        int answeredKnown = 0;
        for (int i = 0; i < FLOOD; i++) {
            String id = "rnd-" + Integer.toHexString(i * 0x9E3779B1) + "-" + i;
            Optional<Registration> answer = repo.findIfCached(id);
            if (answer == null) {
                answer = repo.find(id).join();
            }
            if (answer.isPresent()) {
                answeredKnown++;
            }
            if (i % 1_000 == 0 || i == FLOOD - 1) {
                largestUnknown = Math.max(largestUnknown, unknownSize());
            }
            if (i % 100_000 == 0) {
                ticker.advance(Duration.ofSeconds(10)); // the flood takes a while: negative entries age meanwhile
            }
        }
        long floodMillis = (System.nanoTime() - started) / 1_000_000;
        int floodReads = store.reads.get() - readsBefore;

        repo.cache().cleanUp();
        long cachedAfter = repo.estimatedSize();
        int readsBeforeKnown = store.reads.get();
        int stillCached = 0;
        for (int i = 0; i < KNOWN; i++) {
            Optional<Registration> cached = repo.findIfCached("known-" + i);
            if (cached != null && cached.isPresent()) {
                stillCached++;
            }
            assertThat(repo.find("known-" + i).join()).isPresent();
        }
        int knownReads = store.reads.get() - readsBeforeKnown;

        System.out.printf("unknown-client flood: %,d distinct unknown client_ids in %,d ms -> %,d store reads;"
                        + " unknown-clients cache at most %,d entries (bound %,d); registrations cached %,d before,"
                        + " %,d after, %,d of %,d still cached, %,d store reads to find them again%n",
                FLOOD, floodMillis, floodReads, largestUnknown, UNKNOWN_MAX, cachedBefore, cachedAfter, stillCached,
                KNOWN, knownReads);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(answeredKnown).as("flood ids answered as known").isZero();
        soft.assertThat(largestUnknown).as("unknown clients remembered, at most").isLessThanOrEqualTo(UNKNOWN_MAX);
        soft.assertThat(stillCached).as("registrations still cached after the flood").isEqualTo(KNOWN);
        soft.assertThat(knownReads).as("store reads to find the registrations again").isZero();
        soft.assertThat(cachedAfter).as("registrations cache size after the flood").isEqualTo(cachedBefore);
        soft.assertThat(repo.stats().evictionCount()).as("registrations evicted").isZero();
        soft.assertThat(floodReads).as("store reads of the flood: one per distinct id, none more").isEqualTo(FLOOD);
        soft.assertAll();
    }

    /** Client_ids remembered as unknown right now. */
    private long unknownSize() {
        return repo.estimatedUnknownSize();
    }

    /** An in-memory store completing at once. */
    private static final class MemoryStore implements RegistrationStore {
        private final ConcurrentHashMap<String, Registration> rows = new ConcurrentHashMap<>();

        @Override
        public CompletableFuture<Optional<Registration>> get(String clientId) {
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
