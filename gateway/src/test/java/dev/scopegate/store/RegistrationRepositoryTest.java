package dev.scopegate.store;

import dev.scopegate.model.Registration;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;

class RegistrationRepositoryTest {

    private static final Instant T0 = Instant.parse("2025-11-25T10:00:00Z");
    private static final Duration ACCESS = Duration.ofMinutes(10);
    private static final Duration NEGATIVE = Duration.ofMinutes(1);

    @TempDir
    Path dir;

    private final FakeTicker ticker = new FakeTicker();
    private final Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
    private SqliteRegistrationStore sqlite;
    private CountingStore store;
    private RegistrationRepository repo;

    @BeforeEach
    void open() {
        sqlite = new SqliteRegistrationStore(dir);
        store = new CountingStore(sqlite);
        repo = repository(1_000);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private RegistrationRepository repository(long maxSize) {
        return new RegistrationRepository(store, maxSize, ACCESS, NEGATIVE, ticker, Runnable::run, clock);
    }

    private static Registration registered(String id, String scope) {
        return new Registration(id, scope, List.of("https://chatgpt.com/cb"), List.of("authorization_code"),
                "ChatGPT", null, null, T0, T0);
    }

    @Test
    void unknownClientIsCachedAsEmptyAndCostsOneStoreRead() {
        assertThat(repo.find("ghost").join()).isEmpty();
        assertThat(repo.find("ghost").join()).isEmpty();
        assertThat(repo.findIfCached("ghost")).isEmpty();
        assertThat(store.reads).hasValue(1);
        assertThat(repo.stats().missCount()).isEqualTo(1);
        assertThat(repo.stats().hitCount()).isEqualTo(2);
    }

    @Test
    void saveReplacesANegativeEntryWithoutAnotherRead() {
        repo.find("c1").join();
        Registration r = registered("c1", "a b");
        repo.save(r).join();
        assertThat(repo.find("c1").join()).contains(r);
        assertThat(repo.findIfCached("c1")).contains(r);
        assertThat(store.reads).hasValue(1);
        assertThat(sqlite.get("c1").join()).contains(r);
    }

    @Test
    void saveReachesTheCacheOnlyAfterTheStoreCompleted() {
        CompletableFuture<Void> gate = store.holdWrites();
        Registration r = registered("c1", "a b");
        CompletableFuture<Void> saved = repo.save(r);

        assertThat(saved).isNotDone();
        assertThat(repo.findIfCached("c1")).isNull();
        assertThat(repo.estimatedSize()).isZero();

        gate.complete(null);
        saved.join();
        assertThat(repo.findIfCached("c1")).contains(r);
        assertThat(sqlite.get("c1").join()).contains(r);
    }

    @Test
    void findIfCachedNeverBlocksAndSaysNullWhenItCannotAnswer() {
        assertThat(repo.findIfCached("c1")).isNull();
        assertThat(store.reads).hasValue(0);

        sqlite.put(registered("c1", "s")).join();
        CompletableFuture<Void> gate = store.holdReads();
        CompletableFuture<Optional<Registration>> loading = repo.find("c1");
        assertThat(repo.findIfCached("c1")).as("still loading").isNull();

        gate.complete(null);
        assertThat(loading.join()).isPresent();
        assertThat(repo.findIfCached("c1")).map(Registration::scope).contains("s");
    }

    @Test
    void concurrentMissesShareOneRead() {
        CompletableFuture<Void> gate = store.holdReads();
        CompletableFuture<Optional<Registration>> a = repo.find("c1");
        CompletableFuture<Optional<Registration>> b = repo.find("c1");
        gate.complete(null);
        assertThat(a.join()).isEmpty();
        assertThat(b.join()).isEmpty();
        assertThat(store.reads).hasValue(1);
    }

    @Test
    void evictedEntriesAreReadThroughAgain() {
        RegistrationRepository small = repository(2);
        for (String id : List.of("a", "b", "c", "d", "e")) {
            small.save(registered(id, "scope-" + id)).join();
        }
        small.cache().cleanUp();
        assertThat(small.estimatedSize()).isLessThanOrEqualTo(2);
        assertThat(small.stats().evictionCount()).isGreaterThanOrEqualTo(3);

        for (String id : List.of("a", "b", "c", "d", "e")) {
            assertThat(small.find(id).join()).map(Registration::scope).contains("scope-" + id);
        }
        assertThat(store.reads.get()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void knownClientsExpireAfterAccessOnTheTicker() {
        sqlite.put(registered("c1", "s")).join();
        repo.find("c1").join();
        ticker.advance(Duration.ofMinutes(6));
        assertThat(repo.findIfCached("c1")).isPresent(); // a read extends the entry's life
        ticker.advance(Duration.ofMinutes(6));
        assertThat(repo.find("c1").join()).isPresent();
        assertThat(store.reads).hasValue(1);

        ticker.advance(ACCESS.plusSeconds(1));
        assertThat(repo.findIfCached("c1")).isNull();
        assertThat(repo.find("c1").join()).isPresent();
        assertThat(store.reads).hasValue(2);
    }

    @Test
    void negativeEntriesExpireAfterTheirTtlEvenWhenRead() {
        repo.find("ghost").join();
        ticker.advance(Duration.ofSeconds(40));
        assertThat(repo.find("ghost").join()).isEmpty();
        assertThat(store.reads).hasValue(1);

        // Created meanwhile by another writer of the same store (a replica, an import run).
        sqlite.put(registered("ghost", "s")).join();
        ticker.advance(Duration.ofSeconds(21));
        assertThat(repo.find("ghost").join()).isPresent();
        assertThat(store.reads).hasValue(2);
    }

    @Test
    void learnCreatesALearnedOnlyEntryAndSkipsUnchangedWrites() {
        repo.learn("c1", "a b", T0).join();
        assertThat(sqlite.get("c1").join()).contains(Registration.learnedOnly("c1", "a b", T0));
        assertThat(store.writes).hasValue(1);

        repo.learn("c1", "a b", T0.plusSeconds(5)).join();
        repo.learn("c1", "a b").join();
        assertThat(store.writes).hasValue(1);

        repo.learn("c1", "a b c", T0.plusSeconds(9)).join();
        assertThat(store.writes).hasValue(2);
        assertThat(repo.findIfCached("c1")).map(Registration::learnedScope).contains("a b c");
        assertThat(sqlite.get("c1").join()).map(Registration::updatedAt).contains(T0.plusSeconds(9));
    }

    @Test
    void learnKeepsTheRegistrationAndSkipsWhenTheStoreAlreadyHasIt() {
        Registration r = registered("c1", "registered").withLearnedScope("learned", T0);
        sqlite.put(r).join();
        repo.learn("c1", "learned", T0.plusSeconds(1)).join(); // not cached: one read, no write
        assertThat(store.reads).hasValue(1);
        assertThat(store.writes).hasValue(0);

        repo.learn("c1", "other", T0.plusSeconds(2)).join();
        Registration stored = sqlite.get("c1").join().orElseThrow();
        assertThat(stored.scope()).isEqualTo("registered");
        assertThat(stored.learnedScope()).isEqualTo("other");
        assertThat(stored.createdAt()).isEqualTo(T0);
    }

    @Test
    void learnIgnoresBlankScopes() {
        repo.learn("c1", "  ", T0).join();
        assertThat(store.writes).hasValue(0);
        assertThat(store.reads).hasValue(0);
    }

    @Test
    void writesForOneClientApplyInCallOrder() {
        CompletableFuture<Void> gate = store.holdWrites();
        Registration r = registered("c1", "registered");
        CompletableFuture<Void> save = repo.save(r);
        CompletableFuture<Void> learn = repo.learn("c1", "learned", T0.plusSeconds(1));
        gate.complete(null);
        store.writeGate.set(CompletableFuture.completedFuture(null));
        save.join();
        learn.join();
        // The learn read the saved registration, not the absence that preceded it.
        Registration stored = sqlite.get("c1").join().orElseThrow();
        assertThat(stored.scope()).isEqualTo("registered");
        assertThat(stored.learnedScope()).isEqualTo("learned");
        assertThat(repo.findIfCached("c1")).contains(stored);
    }

    @Test
    void removeDeletesThenCachesAbsence() {
        repo.save(registered("c1", "s")).join();
        assertThat(repo.remove("c1").join()).isTrue();
        assertThat(repo.find("c1").join()).isEmpty();
        assertThat(store.reads).hasValue(0);
        assertThat(sqlite.get("c1").join()).isEmpty();
        assertThat(repo.remove("c1").join()).isFalse();
    }

    @Test
    void failedReadsAreNotCached() {
        store.failReads = true;
        assertThat(repo.find("c1")).failsWithin(Duration.ofSeconds(5))
                .withThrowableOfType(ExecutionException.class).withCauseInstanceOf(StoreException.class);
        assertThat(repo.findIfCached("c1")).isNull();
        store.failReads = false;
        assertThat(repo.find("c1").join()).isEmpty();
        assertThat(store.reads).hasValue(2);
    }

    @Test
    void failedSaveLeavesNothingCached() {
        repo.find("c1").join();
        sqlite.close();
        assertThat(repo.save(registered("c1", "s"))).failsWithin(Duration.ofSeconds(5))
                .withThrowableOfType(ExecutionException.class).withCauseInstanceOf(StoreException.class);
        assertThat(repo.findIfCached("c1")).isNull();
    }

    @Test
    void invalidateForcesAReadThrough() {
        repo.save(registered("c1", "old")).join();
        sqlite.put(registered("c1", "new")).join(); // behind the repository's back
        assertThat(repo.findIfCached("c1")).map(Registration::scope).contains("old");
        repo.invalidate("c1");
        assertThat(repo.find("c1").join()).map(Registration::scope).contains("new");
    }

    @Test
    void aReadInFlightWhenTheEntryIsInvalidatedAnswersItsCallerButIsNotCached() {
        ManualStore manual = new ManualStore();
        RegistrationRepository r = new RegistrationRepository(manual, 100, ACCESS, NEGATIVE, ticker, Runnable::run, clock);
        CompletableFuture<Optional<Registration>> found = r.find("c1");
        r.invalidate("c1");
        manual.reads.remove().complete(Optional.of(registered("c1", "old")));

        assertThat(found.join()).map(Registration::scope).contains("old");
        assertThat(r.findIfCached("c1")).isNull();
        assertThat(r.stats().loadSuccessCount()).isEqualTo(1);
    }

    @Test
    void aReadInFlightWhenASaveLandsNeverOverwritesTheSave() {
        ManualStore manual = new ManualStore();
        RegistrationRepository r = new RegistrationRepository(manual, 100, ACCESS, NEGATIVE, ticker, Runnable::run, clock);
        CompletableFuture<Optional<Registration>> found = r.find("c1");
        Registration saved = registered("c1", "new");
        r.save(saved).join();
        manual.reads.remove().complete(Optional.empty()); // what the store held before the save

        assertThat(found.join()).isEmpty();
        assertThat(r.findIfCached("c1")).contains(saved);
        assertThat(r.find("c1").join()).contains(saved);
        assertThat(manual.reads).isEmpty();
    }

    @Test
    void aReadInFlightWhenARemoveLandsNeverBringsTheClientBack() {
        ManualStore manual = new ManualStore();
        RegistrationRepository r = new RegistrationRepository(manual, 100, ACCESS, NEGATIVE, ticker, Runnable::run, clock);
        CompletableFuture<Optional<Registration>> found = r.find("c1");
        r.remove("c1").join();
        manual.reads.remove().complete(Optional.of(registered("c1", "old"))); // what the store held before the delete

        assertThat(found.join()).map(Registration::scope).contains("old");
        assertThat(r.findIfCached("c1")).isEmpty();
        assertThat(r.estimatedSize()).isZero();
        assertThat(r.find("c1").join()).isEmpty();
        assertThat(manual.reads).isEmpty();
    }

    @Test
    void unknownClientsHaveTheirOwnBoundAndNeverTakeARegistrationsPlace() {
        RegistrationRepository r = new RegistrationRepository(store, 2, 3, ACCESS, NEGATIVE, null, ticker,
                Runnable::run, clock);
        r.save(registered("a", "s")).join();
        r.save(registered("b", "s")).join();
        for (int i = 0; i < 50; i++) {
            assertThat(r.find("ghost-" + i).join()).isEmpty();
        }
        r.cache().cleanUp();
        r.unknownClients().cleanUp();

        assertThat(r.estimatedUnknownSize()).isLessThanOrEqualTo(3);
        assertThat(r.unknownClients().stats().evictionCount()).isGreaterThanOrEqualTo(47);
        assertThat(r.estimatedSize()).isEqualTo(2);
        assertThat(r.stats().evictionCount()).isZero();
        int reads = store.reads.get();
        assertThat(r.findIfCached("a")).isPresent();
        assertThat(r.findIfCached("b")).isPresent();
        assertThat(store.reads).hasValue(reads);
    }

    @Test
    void overlongClientIdsAreNotRememberedAsUnknown() {
        String longest = "c".repeat(RegistrationRepository.MAX_UNKNOWN_ID_LENGTH);
        String tooLong = longest + "c";
        assertThat(repo.find(longest).join()).isEmpty();
        assertThat(repo.find(tooLong).join()).isEmpty();
        assertThat(repo.findIfCached(longest)).isEmpty();
        assertThat(repo.findIfCached(tooLong)).isNull();
        assertThat(repo.find(tooLong).join()).isEmpty();
        assertThat(store.reads).hasValue(3);
    }

    @Test
    void zeroUnknownClientsRemembersNone() {
        RegistrationRepository r = new RegistrationRepository(store, 10, 0, ACCESS, NEGATIVE, null, ticker,
                Runnable::run, clock);
        assertThat(r.find("ghost").join()).isEmpty();
        r.unknownClients().cleanUp();
        assertThat(r.find("ghost").join()).isEmpty();
        assertThat(store.reads).hasValue(2);
    }

    @Test
    void cachedRegistrationsShareWhatTheyHaveInCommon() {
        Registration a = new Registration("c1", new String("a b"), List.of(new String("https://chatgpt.com/cb")),
                List.of(new String("authorization_code")), new String("ChatGPT"), "https://idp/register/c1", null, T0, T0);
        Registration b = new Registration("c2", new String("a b"), List.of(new String("https://chatgpt.com/cb")),
                List.of(new String("authorization_code")), new String("ChatGPT"), "https://idp/register/c2", null, T0, T0);
        repo.save(a).join();
        sqlite.put(b).join();
        Registration cachedA = repo.findIfCached("c1").orElseThrow();
        Registration loadedB = repo.find("c2").join().orElseThrow();

        assertThat(cachedA).isEqualTo(a);
        assertThat(loadedB).isEqualTo(b);
        assertThat(loadedB.scope()).isSameAs(cachedA.scope());
        assertThat(loadedB.redirectUris()).isSameAs(cachedA.redirectUris());
        assertThat(loadedB.grantTypes()).isSameAs(cachedA.grantTypes());
        assertThat(loadedB.clientName()).isSameAs(cachedA.clientName());
        assertThat(loadedB.registrationClientUri()).isEqualTo("https://idp/register/c2");
    }

    @Test
    void loadsAreCountedAsCaffeineWouldCountThem() {
        CompletableFuture<Void> gate = store.holdReads();
        CompletableFuture<Optional<Registration>> a = repo.find("c1");
        CompletableFuture<Optional<Registration>> b = repo.find("c1"); // joins the read in flight
        gate.complete(null);
        a.join();
        b.join();
        store.failReads = true;
        repo.find("c2").exceptionally(failure -> null).join();

        assertThat(repo.stats().missCount()).isEqualTo(2);
        assertThat(repo.stats().hitCount()).isEqualTo(1);
        assertThat(repo.stats().loadSuccessCount()).isEqualTo(1);
        assertThat(repo.stats().loadFailureCount()).isEqualTo(1);
    }

    /** A store whose reads complete only when the test completes them; writes succeed at once. */
    private static final class ManualStore implements RegistrationStore {
        final ConcurrentLinkedQueue<CompletableFuture<Optional<Registration>>> reads = new ConcurrentLinkedQueue<>();

        @Override
        public CompletableFuture<Optional<Registration>> get(String clientId) {
            CompletableFuture<Optional<Registration>> read = new CompletableFuture<>();
            reads.add(read);
            return read;
        }

        @Override
        public CompletableFuture<Void> put(Registration registration) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> delete(String clientId) {
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public CompletableFuture<Void> ping() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Long> count() {
            return CompletableFuture.completedFuture(0L);
        }

        @Override
        public void close() {
        }
    }
}
