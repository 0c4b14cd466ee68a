// Over 400 lines, a third of them javadoc: the registrations cache and the unknown-client cache share their read-through and write paths.
package dev.scopegate.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.CacheLoader;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.github.benmanes.caffeine.cache.stats.ConcurrentStatsCounter;
import dev.scopegate.model.Registration;
import dev.scopegate.model.RegistrationInterner;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The hot-path front of a {@link RegistrationStore}: a bounded Caffeine cache of
 * {@code client_id → Registration} that reads through to the store, and beside it a much smaller
 * bounded cache of the {@code client_id}s the store does not know.
 *
 * <p><b>Negative caching.</b> An unknown {@code client_id} is remembered as unknown,
 * so a client scopegate never saw costs one store read, not one per request. Anyone can send
 * authorization requests with made-up {@code client_id}s, so these entries live in their own
 * cache of at most {@code unknownMaxSize} entries ({@code cache.unknown-clients.max-size}): a
 * flood of random ids costs that bound in memory and a store read each, and never evicts a
 * registration nor grows the registrations' cache ({@code client_id}s longer than
 * {@link #MAX_UNKNOWN_ID_LENGTH} are not remembered, so the bound holds in bytes too). Negative
 * entries live at most {@code negativeTtl} (default {@link #DEFAULT_NEGATIVE_TTL}) and are not
 * extended by reads, because another writer of the same store (a second replica on Redis, an
 * {@code import} run) may create the client meanwhile; a registration saved through the
 * repository replaces its negative entry at once. Known clients expire {@code expireAfterAccess} after their last read.
 * Store failures are not cached. A known client's cache hit is one lookup; only a miss there
 * consults the negative cache.
 *
 * <p><b>Writes.</b> {@link #save}, {@link #remove} and {@link #learn} write the store first and
 * update the cache only once the store's future has completed, so "in the cache" implies "on
 * disk". Writes for one {@code client_id} are applied one after another, in call order, so a
 * {@code learn} never overwrites a concurrent {@code save} with a stale copy.
 *
 * <p><b>Memory.</b> A million cached clients must fit in a small heap, so the cache holds the
 * registration itself (no future or {@code Optional} per entry; loads in flight sit in a side
 * map until they complete), and every cached registration goes through a bounded
 * {@link RegistrationInterner} so that clients registered alike share their scope, redirect
 * URIs, grant types and names.
 *
 * <p><b>Threading.</b> Every method may be called from any thread, including an event loop: none
 * blocks. Returned futures complete on the store's threads (or at once, on the caller's); callers
 * hop back to their own executor. Cache maintenance runs on the injected executor; expiry reads
 * the injected ticker. Every change of what is cached for one {@code client_id} (a read's answer,
 * a write, an invalidation) happens under that key's entry in the {@code loads} map, so a read's
 * late answer never undoes a write or an invalidation, and no client is left in both caches.
 */
public final class RegistrationRepository {

    /** How long an unknown {@code client_id} is remembered as unknown, unless given. */
    public static final Duration DEFAULT_NEGATIVE_TTL = Duration.ofMinutes(1);

    /** How many unknown {@code client_id}s are remembered at most, unless given ({@code cache.unknown-clients.max-size}). */
    public static final long DEFAULT_UNKNOWN_MAX_SIZE = 10_000;

    /**
     * Longest {@code client_id} remembered as unknown. The bound on unknown clients counts entries,
     * and a form may carry a {@code client_id} of tens of kilobytes: longer ones are not
     * remembered (each request for one reads the store), so the cache stays within about
     * {@code unknownMaxSize} × 0.5 KiB (measured: 200 B per entry for a 36-character id, 415 B
     * for 256 characters).
     */
    static final int MAX_UNKNOWN_ID_LENGTH = 256;

    /** Bound on the estimated bytes of the values cached registrations share. */
    static final long INTERNER_BYTES = 4L << 20;

    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    /** The cached value of a client known to be unknown: compared by identity, never handed out. */
    private static final Registration UNKNOWN = Registration.learnedOnly("", null, Instant.EPOCH);

    private final RegistrationStore store;
    private final Clock clock;
    private final Ticker ticker;
    private final ConcurrentStatsCounter statsCounter = new ConcurrentStatsCounter();
    private final ConcurrentStatsCounter unknownStats = new ConcurrentStatsCounter();
    private final RegistrationInterner interner;
    /** Known clients only. */
    private final LoadingCache<String, Registration> cache;
    /** Unknown clients: {@code client_id → TRUE}, expiring a fixed time after it was written. */
    private final Cache<String, Boolean> unknown;
    /**
     * Store reads in flight, one per client; a write or invalidation removes it so its answer is
     * not cached. Its per-key atomic operations also order every cache change for a client.
     */
    private final ConcurrentMap<String, CompletableFuture<Registration>> loads = new ConcurrentHashMap<>();
    /** Per client: completes when the last write queued for it is done. */
    private final ConcurrentMap<String, CompletableFuture<Void>> writeTails = new ConcurrentHashMap<>();

    public RegistrationRepository(RegistrationStore store, long maxSize, Duration expireAfterAccess,
                                  Ticker ticker, Executor executor, Clock clock) {
        this(store, maxSize, expireAfterAccess, DEFAULT_NEGATIVE_TTL, ticker, executor, clock);
    }

    /**
     * @param maxSize           bound on cached registrations ({@code cache.registrations.max-size})
     * @param expireAfterAccess a known client leaves the cache this long after its last read
     * @param negativeTtl       an unknown client is remembered as unknown this long (capped at {@code expireAfterAccess})
     */
    public RegistrationRepository(RegistrationStore store, long maxSize, Duration expireAfterAccess,
                                  Duration negativeTtl, Ticker ticker, Executor executor, Clock clock) {
        this(store, maxSize, DEFAULT_UNKNOWN_MAX_SIZE, expireAfterAccess, negativeTtl, null, ticker, executor, clock);
    }

    /**
     * For a store other replicas write too (Redis): {@code refreshAfterWrite} (null: never) makes
     * a read of an entry loaded longer ago than that reload it from the store in the background.
     * The read still gets the cached answer, and a failed reload keeps it, so an unreachable store
     * does not empty the cache. Pair it with {@link #invalidate}/{@link #invalidateAll} driven by
     * the store's change notifications.
     *
     * @param unknownMaxSize bound on remembered unknown clients ({@code cache.unknown-clients.max-size});
     *                       0 remembers none, so every request of an unknown client reads the store
     */
    public RegistrationRepository(RegistrationStore store, long maxSize, long unknownMaxSize,
                                  Duration expireAfterAccess, Duration negativeTtl, Duration refreshAfterWrite,
                                  Ticker ticker, Executor executor, Clock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        Objects.requireNonNull(executor, "executor");
        Objects.requireNonNull(expireAfterAccess, "expireAfterAccess");
        Objects.requireNonNull(negativeTtl, "negativeTtl");
        if (maxSize < 0 || unknownMaxSize < 0) {
            throw new IllegalArgumentException("maxSize and unknownMaxSize must not be negative: " + maxSize + ", "
                    + unknownMaxSize);
        }
        if (expireAfterAccess.isNegative() || expireAfterAccess.isZero() || negativeTtl.isNegative()) {
            throw new IllegalArgumentException("expireAfterAccess must be positive and negativeTtl not negative");
        }
        long positiveNanos = saturatedNanos(expireAfterAccess);
        long negativeNanos = Math.min(saturatedNanos(negativeTtl), positiveNanos);
        this.interner = new RegistrationInterner(INTERNER_BYTES, executor);
        Caffeine<Object, Object> builder = Caffeine.newBuilder()
                .maximumSize(maxSize)
                .expireAfterAccess(positiveNanos, TimeUnit.NANOSECONDS)
                .ticker(ticker)
                .executor(executor)
                .recordStats(() -> statsCounter);
        if (refreshAfterWrite != null) {
            builder.refreshAfterWrite(refreshAfterWrite);
        }
        this.cache = builder.build(new CacheLoader<String, Registration>() {
            @Override
            public Registration load(String clientId) {
                // Misses go through find(), which reads the store without blocking.
                throw new UnsupportedOperationException("registrations load through find()");
            }

            @Override
            public CompletableFuture<Registration> asyncReload(String clientId, Registration old, Executor ignored) {
                // Gone from the store: null drops the entry; the next read finds the absence.
                return read(clientId).thenApply(found -> found == UNKNOWN ? null : found).exceptionally(failure -> old);
            }
        });
        this.unknown = Caffeine.newBuilder()
                .maximumSize(unknownMaxSize)
                .expireAfterWrite(negativeNanos, TimeUnit.NANOSECONDS)
                .ticker(ticker)
                .executor(executor)
                .recordStats(() -> unknownStats)
                .build();
    }

    /**
     * The registration of {@code clientId}, from the cache or else from the store (then cached,
     * absence included). Concurrent misses for one key share a single store read.
     */
    public CompletableFuture<Optional<Registration>> find(String clientId) {
        Registration cached = cache.asMap().get(Objects.requireNonNull(clientId, "clientId"));
        if (cached != null) {
            statsCounter.recordHits(1);
            return CompletableFuture.completedFuture(Optional.of(cached));
        }
        if (knownToBeUnknown(clientId)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        unknownStats.recordMisses(1);
        return load(clientId).thenApply(RegistrationRepository::answer);
    }

    /**
     * A synchronous peek for the hot path; never blocks and never reads the store.
     *
     * @return {@code null} when the cache cannot answer now (not in memory, still loading, or its
     *         load failed): call {@link #find} then; otherwise the cached answer, where
     *         {@code Optional.empty()} means the client is known to be unknown. An answer counts as
     *         a cache hit; {@code null} counts nothing (the {@code find} that follows counts the miss).
     */
    public Optional<Registration> findIfCached(String clientId) {
        Registration cached = cache.asMap().get(Objects.requireNonNull(clientId, "clientId"));
        if (cached != null) {
            statsCounter.recordHits(1);
            return Optional.of(cached);
        }
        return knownToBeUnknown(clientId) ? Optional.empty() : null;
    }

    /**
     * Stores {@code registration} (replacing any earlier one, and any negative entry) and then
     * caches it. Fails if the store fails; the cached entry is then dropped so the next read asks
     * the store.
     */
    public CompletableFuture<Void> save(Registration registration) {
        Objects.requireNonNull(registration, "registration");
        String clientId = registration.clientId();
        return serialized(clientId, () -> write(clientId, store.put(registration), registration));
    }

    /** Deletes the client from the store, then caches it as unknown; completes with whether it existed. */
    public CompletableFuture<Boolean> remove(String clientId) {
        Objects.requireNonNull(clientId, "clientId");
        return serialized(clientId, () -> {
            CompletableFuture<Boolean> deleted = store.delete(clientId);
            return write(clientId, deleted, UNKNOWN).thenCompose(ignored -> deleted);
        });
    }

    /**
     * Records {@code scope} as what {@code clientId} was last seen to ask for or be granted,
     * creating a {@link Registration#learnedOnly} entry for a client never registered. Writes
     * nothing when the learned scope is unchanged (the common case: one compare on a cached
     * entry) or when {@code scope} is blank. The caller learns only from traffic the IdP accepted,
     * so an unknown client cannot fill the store.
     */
    public CompletableFuture<Void> learn(String clientId, String scope, Instant now) {
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(now, "now");
        if (scope.isBlank() || alreadyLearned(cache.asMap().get(clientId), scope)) {
            return DONE;
        }
        return serialized(clientId, () -> current(clientId).thenCompose(current -> {
            if (alreadyLearned(current, scope)) {
                return DONE;
            }
            Registration next = current != UNKNOWN ? current.withLearnedScope(scope, now)
                    : Registration.learnedOnly(clientId, scope, now);
            return write(clientId, store.put(next), next);
        }));
    }

    /** {@link #learn(String, String, Instant)} at the repository clock's now. */
    public CompletableFuture<Void> learn(String clientId, String scope) {
        return learn(clientId, scope, clock.instant());
    }

    /** Drops the cached entry and forgets a read in flight (admin, or a change made behind the repository's back). */
    public void invalidate(String clientId) {
        Objects.requireNonNull(clientId, "clientId");
        loads.compute(clientId, (id, running) -> {
            cache.invalidate(id);
            unknown.invalidate(id);
            return null;
        });
    }

    /**
     * Drops every cached entry: another writer of the store (a replica sharing Redis) changed
     * clients and which ones is unknown (a change notification may have been missed).
     */
    public void invalidateAll() {
        loads.clear();
        cache.invalidateAll();
        unknown.invalidateAll();
    }

    /**
     * Since construction: hits (lookups answered from memory, "unknown" included, and lookups that
     * joined a read in flight), misses (store reads started), loads, and evictions of registrations.
     */
    public CacheStats stats() {
        return statsCounter.snapshot();
    }

    /** Approximate number of cached registrations (unknown clients not included). */
    public long estimatedSize() {
        return cache.estimatedSize();
    }

    /** Approximate number of client_ids remembered as unknown. */
    public long estimatedUnknownSize() {
        return unknown.estimatedSize();
    }

    /**
     * The cache of registrations, for metrics binding (Micrometer's {@code CaffeineCacheMetrics.monitor}):
     * its gets and loads are {@link #stats()}. Writing through it bypasses the store: read only.
     */
    public LoadingCache<String, ?> cache() {
        return cache;
    }

    /**
     * The cache of unknown clients, for metrics binding: its gets are the lookups the registrations
     * missed (a hit answers "unknown"; a miss goes on to the store, or joins a read of it in flight),
     * its evictions those its bound forced. Read only.
     */
    public Cache<String, ?> unknownClients() {
        return unknown;
    }

    /**
     * Whether {@code clientId} is remembered as unknown; counts a hit if so, nothing otherwise.
     * Reads through the map view: it counts no statistics but still tells the eviction policy,
     * so an unknown client asked for again and again outlasts a flood of ids seen once.
     */
    private boolean knownToBeUnknown(String clientId) {
        if (unknown.asMap().get(clientId) == null) {
            return false;
        }
        statsCounter.recordHits(1);
        unknownStats.recordHits(1);
        return true;
    }

    /** The caller's view of a cached value. */
    private static Optional<Registration> answer(Registration cached) {
        return cached == UNKNOWN ? Optional.empty() : Optional.of(cached);
    }

    /** The store's answer as the cache keeps it: shared parts interned, absence as {@link #UNKNOWN}. */
    private CompletableFuture<Registration> read(String clientId) {
        CompletableFuture<Optional<Registration>> read;
        try {
            read = store.get(clientId);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return read.thenApply(found -> found.isPresent() ? interner.intern(found.get()) : UNKNOWN);
    }

    /**
     * Reads {@code clientId} from the store, or joins the read already in flight for it, and
     * caches the answer unless a write or an invalidation came first.
     */
    private CompletableFuture<Registration> load(String clientId) {
        CompletableFuture<Registration> running = loads.get(clientId);
        if (running == null) {
            CompletableFuture<Registration> mine = new CompletableFuture<>();
            running = loads.putIfAbsent(clientId, mine);
            if (running == null) {
                return startLoad(clientId, mine);
            }
        }
        // Like Caffeine's async cache: a read in flight answers as a hit.
        statsCounter.recordHits(1);
        return running;
    }

    private CompletableFuture<Registration> startLoad(String clientId, CompletableFuture<Registration> mine) {
        // A load that completed between the caller's miss and our entry in `loads` cached its answer.
        Registration cached = cachedWithoutStats(clientId);
        if (cached != null) {
            loads.remove(clientId, mine);
            statsCounter.recordHits(1);
            mine.complete(cached);
            return mine;
        }
        statsCounter.recordMisses(1);
        long started = ticker.read();
        read(clientId).whenComplete((value, failure) -> {
            long took = ticker.read() - started;
            if (failure != null) {
                loads.remove(clientId, mine);
                statsCounter.recordLoadFailure(took);
                mine.completeExceptionally(failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
                return;
            }
            statsCounter.recordLoadSuccess(took);
            loads.computeIfPresent(clientId, (id, running) -> {
                if (running != mine) {
                    return running; // a write or an invalidation came first: the answer is stale
                }
                if (value == UNKNOWN) {
                    rememberUnknown(id);
                } else {
                    cache.asMap().putIfAbsent(keyFor(id, value), value);
                }
                return null;
            });
            mine.complete(value);
        });
        return mine;
    }

    /** Remembers {@code clientId} as unknown, unless it is too long to be worth its memory. */
    private void rememberUnknown(String clientId) {
        if (clientId.length() <= MAX_UNKNOWN_ID_LENGTH) {
            unknown.put(clientId, Boolean.TRUE);
        }
    }

    /** The cached answer for {@code clientId} ({@link #UNKNOWN} included) without counting a lookup, else null. */
    private Registration cachedWithoutStats(String clientId) {
        Registration cached = cache.asMap().get(clientId);
        return cached != null || !unknown.asMap().containsKey(clientId) ? cached : UNKNOWN;
    }

    /** The entry a write builds on: cached or loading, without counting a lookup, else loaded. */
    private CompletableFuture<Registration> current(String clientId) {
        Registration cached = cachedWithoutStats(clientId);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        CompletableFuture<Registration> running = loads.get(clientId);
        return running != null ? running : load(clientId);
    }

    /** The key to cache {@code value} under: its own client_id instance, so key and value share it. */
    private static String keyFor(String clientId, Registration value) {
        return value != UNKNOWN && value.clientId().equals(clientId) ? value.clientId() : clientId;
    }

    private static boolean alreadyLearned(Registration current, String scope) {
        return current != null && current != UNKNOWN && scope.equals(current.learnedScope());
    }

    /** Once the store write succeeded, caches its result; if it failed, forgets the key. */
    private CompletableFuture<Void> write(String clientId, CompletableFuture<?> storeWrite, Registration after) {
        return storeWrite.handle((ignored, failure) -> {
            if (failure != null) {
                invalidate(clientId);
                throw failure instanceof RuntimeException re ? re : new StoreException("store write failed", failure);
            }
            Registration cached = after == UNKNOWN ? UNKNOWN : interner.intern(after);
            // A read still in flight saw the store before this write: removing it keeps its answer out.
            loads.compute(clientId, (id, running) -> {
                if (cached == UNKNOWN) {
                    cache.invalidate(id);
                    rememberUnknown(id);
                } else {
                    cache.put(keyFor(id, cached), cached);
                    unknown.invalidate(id);
                }
                return null;
            });
            return null;
        });
    }

    /** Runs {@code op} after every write queued earlier for the same client has finished (failed or not). */
    private <T> CompletableFuture<T> serialized(String clientId, Supplier<CompletableFuture<T>> op) {
        CompletableFuture<Void> tail = new CompletableFuture<>();
        CompletableFuture<Void> previous = writeTails.put(clientId, tail);
        CompletableFuture<Void> start = previous == null ? DONE : previous;
        CompletableFuture<T> result = start.thenCompose(ignored -> op.get());
        result.whenComplete((value, failure) -> {
            writeTails.remove(clientId, tail);
            tail.complete(null);
        });
        return result;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return Math.min(d.toNanos(), Long.MAX_VALUE >> 1);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE >> 1;
        }
    }
}
