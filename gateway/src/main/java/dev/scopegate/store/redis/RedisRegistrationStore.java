// Over 400 lines: reads, scripted writes, the outbox hand-off and meters share one connection state (key layout, outbox and change feed are split out).
package dev.scopegate.store.redis;

import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.MeterNames;
import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationJson;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.StoreException;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * {@code store.type: redis}: registrations in Redis, shared by every replica, so a client that
 * registered through one replica finds its scopes through another.
 *
 * <p><b>Layout.</b> See {@link RedisKeys}: one hash per client ({@code P client:<client_id>},
 * fields {@code doc} = {@link RegistrationJson} and {@code at} = updated_at in ms), a change
 * counter and a pub/sub channel. Each write is one Lua script on one key (write, TTL, announce:
 * atomic, Cluster-safe). Keys expire {@link Settings#ttl} after their last write or store read:
 * the cache's {@code expire-after-access} plus its refresh interval, so a client every replica
 * serves from its cache is still re-read (and its TTL renewed) at least once per refresh.
 *
 * <p><b>Coherence.</b> {@link #onRemoteChange} gets the client of every change another replica
 * makes (drop it from the cache), and "anything may have changed" when a notification may have
 * been missed (drop the whole cache): at (re)subscription, or when the shared counter shows a
 * number that did not arrive within a poll interval. A lost notification is thus noticed within
 * two {@link Settings#poll} intervals.
 *
 * <p><b>Failure policy.</b> Commands time out after the URI's {@code timeout} (default 2 s) and
 * fail at once while the connection is down; nothing waits for Redis to come back.
 * <ul>
 *   <li>Reads that Redis cannot answer fail; the cache in front keeps serving what it holds
 *       (a failed refresh keeps the old entry) and an unknown client is resolved without its
 *       registration. Writes kept locally (below) are read back from there.</li>
 *   <li>A write Redis does not acknowledge is kept in the outbox ({@link Outbox}, a SQLite file
 *       under {@code store.path}) and the future completes once that is on disk: the gateway
 *       relays the client's 201 as usual. Kept writes are replayed in order once Redis answers
 *       again; a replay never replaces an entry that is newer in Redis. A write neither Redis nor
 *       the outbox took fails the future (the gateway answers 502: never a silent loss).</li>
 *   <li>{@link #ping} fails while Redis is unreachable, so {@code /readyz} reports
 *       {@code "store": false}; the proxy keeps serving. Meters: see {@link #bindTo}.</li>
 *   <li>Redis unreachable at start: the constructor returns once the first connection attempt
 *       fails (at most {@code 10 s} for one still in progress); the gateway starts degraded and
 *       connects in the background (250 ms doubling to 5 s); Lettuce reconnects a lost
 *       connection by itself (100 ms doubling to 5 s).</li>
 * </ul>
 * Durability of an acknowledged write is Redis's own: run it with {@code appendonly yes}.
 *
 * <p><b>Threading.</b> Every method except the constructor, {@link #forEachPage} and
 * {@link #close} is non-blocking and may be called from any thread, event loops included.
 * Redis I/O runs on Lettuce's own event loops, and futures complete there (or on the outbox
 * thread); callers hop to their own executor.
 */
public final class RedisRegistrationStore implements RegistrationStore, MeterBinder {

    /** How long a cached registration is served before a read reloads it in the background. */
    public static final Duration DEFAULT_CACHE_REFRESH = Duration.ofMinutes(10);
    /** How often the change counter is polled (and Redis's health probed). */
    public static final Duration DEFAULT_POLL = Duration.ofSeconds(2);

    private static final Logger log = LoggerFactory.getLogger(RedisRegistrationStore.class);
    /** What a write that went to the outbox reports instead of Redis's answer. */
    private static final long DEFERRED = -2;
    private static final int SCAN_COUNT = 500;
    private static final int BULK_CHUNK = 100;
    /** Longest the constructor waits for a connection that is still being made (not for a refused one). */
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(10);

    /**
     * What the store needs.
     *
     * @param uri          {@code store.redis.uri} (see {@link RedisConnector} for the forms accepted)
     * @param keyPrefix    {@code store.redis.key-prefix}
     * @param ttl          a client key lives this long after its last write or store read
     * @param cacheRefresh the refresh-after-write the repository in front should use
     * @param poll         interval of the change-counter poll and health probe
     * @param outboxDir    where writes wait while Redis is away; null: no outbox, failed writes
     *                     fail (command-line tools)
     * @param password     {@code store.redis.password-file}'s content for a URI without a password;
     *                     null: the URI's own (never shown by {@link #toString()})
     */
    public record Settings(String uri, String keyPrefix, Duration ttl, Duration cacheRefresh, Duration poll,
                           Path outboxDir, String password) {

        /** Settings whose password, if any, is in the URI. */
        public Settings(String uri, String keyPrefix, Duration ttl, Duration cacheRefresh, Duration poll, Path outboxDir) {
            this(uri, keyPrefix, ttl, cacheRefresh, poll, outboxDir, null);
        }

        public Settings {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(keyPrefix, "keyPrefix");
            Objects.requireNonNull(ttl, "ttl");
            Objects.requireNonNull(cacheRefresh, "cacheRefresh");
            Objects.requireNonNull(poll, "poll");
            if (ttl.toMillis() <= 0 || cacheRefresh.toMillis() <= 0 || poll.toMillis() <= 0) {
                throw new IllegalArgumentException("ttl, cacheRefresh and poll must be at least 1 ms");
            }
        }

        /** From {@code store.redis.*}, {@code store.path} (the outbox) and {@code cache.registrations}. */
        public static Settings from(ScopegateConfig config) {
            ScopegateConfig.Redis redis = config.store().redis();
            Duration expire = config.cache().registrations().expireAfterAccess();
            Duration refresh = expire.compareTo(DEFAULT_CACHE_REFRESH) < 0 ? expire : DEFAULT_CACHE_REFRESH;
            return new Settings(redis.uri(), redis.keyPrefix(), saturatedPlus(expire, refresh), refresh, DEFAULT_POLL,
                    Path.of(config.store().path()), redis.password());
        }

        public Settings withoutOutbox() {
            return new Settings(uri, keyPrefix, ttl, cacheRefresh, poll, null, password);
        }

        @Override
        public String toString() {
            return "Settings[uri=" + RedisConnector.describe(uri) + ", keyPrefix=" + keyPrefix + ", ttl=" + ttl
                    + ", cacheRefresh=" + cacheRefresh + ", poll=" + poll + ", outboxDir=" + outboxDir
                    + ", password=" + (password == null ? "null" : "***") + "]";
        }

        private static Duration saturatedPlus(Duration a, Duration b) {
            try {
                Duration sum = a.plus(b);
                return sum.toMillis() > 0 ? sum : a;
            } catch (ArithmeticException e) {
                return Duration.ofMillis(Long.MAX_VALUE);
            }
        }
    }

    private final Settings settings;
    private final Clock clock;
    private final RedisKeys keys;
    private final RedisConnector connector;
    private final Outbox outbox;
    private final ChangeFeed feed;
    private final ScheduledExecutorService scheduler;
    private final String ttlMillis;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean replaying = new AtomicBoolean();
    private volatile RedisConnector.Connection connection;
    private volatile boolean probeOk;
    private volatile boolean reportedDown;
    private volatile boolean warnedDeferral;
    private long reconnectDelayMillis = 250;

    private final LongAdder deferred = new LongAdder();
    private final LongAdder replayed = new LongAdder();
    private final LongAdder readErrors = new LongAdder();
    private final LongAdder writeErrors = new LongAdder();
    private final LongAdder pingErrors = new LongAdder();

    /**
     * Opens the outbox (if any) and connects; returns once connected or once the first attempt
     * failed (waiting at most {@code 10 s}), and then keeps connecting in the background. Blocks:
     * call at startup, not on an event loop.
     *
     * @throws IllegalArgumentException if the URI is not one Lettuce accepts
     * @throws IllegalStateException    if the outbox cannot be opened
     */
    public RedisRegistrationStore(Settings settings, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.keys = new RedisKeys(settings.keyPrefix());
        this.ttlMillis = Long.toString(settings.ttl().toMillis());
        this.outbox = settings.outboxDir() == null ? null : new Outbox(settings.outboxDir());
        try {
            this.connector = new RedisConnector(settings.uri(), settings.password());
        } catch (RuntimeException e) {
            if (outbox != null) {
                outbox.close();
            }
            throw e;
        }
        this.feed = new ChangeFeed(keys.channel(), UUID.randomUUID().toString());
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "scopegate-redis");
            t.setDaemon(true);
            return t;
        });
        s.setRemoveOnCancelPolicy(true);
        this.scheduler = s;
        CompletableFuture<RedisConnector.Connection> first = connect();
        try {
            first.get(STARTUP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            reportedDown = true;
            String why = e instanceof TimeoutException ? "no answer in " + STARTUP_WAIT : rootMessage(e);
            if (outbox == null) {
                log.warn("Redis {} unreachable ({})", connector.description(), why);
            } else {
                log.warn("Redis {} unreachable at start ({}): starting without it (reads from the cache, writes kept "
                        + "in {}), retrying in the background", connector.description(), why, outbox.file());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        scheduler.scheduleWithFixedDelay(this::tick, settings.poll().toMillis(), settings.poll().toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /**
     * Registers what to do when another replica changes a client ({@code changed}, with its
     * {@code client_id}) and when changes may have been missed ({@code unknownChanges}: drop every
     * cached entry). Called on Lettuce's or the store's threads; both must be cheap.
     */
    public void onRemoteChange(Consumer<String> changed, Runnable unknownChanges) {
        feed.listen(changed, unknownChanges);
    }

    /** The refresh-after-write the registration cache in front of this store should use. */
    public Duration cacheRefresh() {
        return settings.cacheRefresh();
    }

    public Settings settings() {
        return settings;
    }

    /** Whether Redis answered the last probe and the connection is open. */
    public boolean up() {
        RedisConnector.Connection c = connection;
        return c != null && c.isOpen() && probeOk;
    }

    /** Writes waiting in the outbox for Redis. */
    public int pending() {
        return outbox == null ? 0 : outbox.size();
    }

    /** The URI without credentials. */
    public String description() {
        return connector.description();
    }

    /** Standalone, sentinel or cluster; null before the first connection. */
    RedisConnector.Mode mode() {
        RedisConnector.Connection c = connection;
        return c == null ? null : c.mode();
    }

    ChangeFeed feed() {
        return feed;
    }

    RedisKeys keys() {
        return keys;
    }

    @Override
    public CompletableFuture<Optional<Registration>> get(String clientId) {
        Objects.requireNonNull(clientId, "clientId");
        Outbox.Entry kept = outbox == null ? null : outbox.pending(clientId);
        if (kept != null) {
            return CompletableFuture.completedFuture(Optional.ofNullable(kept.registration()));
        }
        RedisConnector.Connection c = connection;
        if (c == null) {
            readErrors.increment();
            return CompletableFuture.failedFuture(notConnected());
        }
        String key = keys.client(clientId);
        RedisFuture<String> doc = c.commands().hget(key, RedisKeys.DOC_FIELD);
        c.commands().pexpire(key, settings.ttl().toMillis());
        return doc.toCompletableFuture().handle((d, e) -> {
            if (e != null) {
                readErrors.increment();
                throw storeFailure("get", e);
            }
            if (d == null) {
                return Optional.empty();
            }
            try {
                return Optional.of(RegistrationJson.fromJson(d));
            } catch (IllegalArgumentException bad) {
                throw new StoreException("stored registration is unreadable: " + bad.getMessage());
            }
        });
    }

    @Override
    public CompletableFuture<Void> put(Registration registration) {
        Objects.requireNonNull(registration, "registration");
        return write(registration.clientId(), registration, registration.updatedAt().toEpochMilli())
                .thenApply(n -> null);
    }

    /**
     * Without an outbox (command-line tools): writes every entry in a pipeline, announces none of
     * them, then advances the change counter once, so every replica notices a gap and drops its
     * cache. With an outbox: one {@link #put} each.
     */
    @Override
    public CompletableFuture<Void> putAll(List<Registration> registrations) {
        List<Registration> all = List.copyOf(registrations);
        if (outbox != null) {
            return RegistrationStore.super.putAll(all);
        }
        RedisConnector.Connection c = connection;
        if (c == null) {
            return CompletableFuture.failedFuture(notConnected());
        }
        CompletableFuture<Void> written = CompletableFuture.completedFuture(null);
        for (int from = 0; from < all.size(); from += BULK_CHUNK) {
            List<Registration> chunk = all.subList(from, Math.min(all.size(), from + BULK_CHUNK));
            // One chunk in flight at a time: a pipeline of thousands would outrun the command timeout.
            written = written.thenCompose(v -> CompletableFuture.allOf(chunk.stream()
                    .map(r -> Scripts.write(c.commands(), keys.client(r.clientId()), "put", RegistrationJson.toJson(r),
                            Long.toString(r.updatedAt().toEpochMilli()), ttlMillis, "0", "", ""))
                    .toArray(CompletableFuture[]::new)));
        }
        return written
                .thenCompose(v -> c.commands().incr(keys.seq()).toCompletableFuture())
                .handle((v, e) -> {
                    if (e != null) {
                        writeErrors.increment();
                        throw storeFailure("putAll", e);
                    }
                    return null;
                });
    }

    /** Completes with whether the client existed; a delete kept in the outbox reports true. */
    @Override
    public CompletableFuture<Boolean> delete(String clientId) {
        Objects.requireNonNull(clientId, "clientId");
        return write(clientId, null, clock.millis()).thenApply(n -> n == DEFERRED || n > 0);
    }

    /** Completes normally when Redis answers PING; fails at once while it is unreachable. */
    @Override
    public CompletableFuture<Void> ping() {
        RedisConnector.Connection c = connection;
        if (c == null) {
            pingErrors.increment();
            return CompletableFuture.failedFuture(notConnected());
        }
        return c.commands().ping().toCompletableFuture().handle((pong, e) -> {
            if (e != null) {
                pingErrors.increment();
                throw storeFailure("ping", e);
            }
            return null;
        });
    }

    /** Counts client keys with SCAN (a full pass over the keyspace: admin use only). */
    @Override
    public CompletableFuture<Long> count() {
        RedisConnector.Connection c = connection;
        if (c == null) {
            return CompletableFuture.failedFuture(notConnected());
        }
        ScanArgs args = ScanArgs.Builder.matches(keys.clientPattern()).limit(SCAN_COUNT);
        return countFrom(c.commands(), c.commands().scan(args), args, 0).handle((n, e) -> {
            if (e != null) {
                throw storeFailure("count", e);
            }
            return n;
        });
    }

    private CompletableFuture<Long> countFrom(RedisClusterAsyncCommands<String, String> commands,
                                              RedisFuture<KeyScanCursor<String>> page, ScanArgs args, long sum) {
        return page.toCompletableFuture().thenCompose(cursor -> {
            long total = sum + cursor.getKeys().size();
            return cursor.isFinished() ? CompletableFuture.completedFuture(total)
                    : countFrom(commands, commands.scan(cursor, args), args, total);
        });
    }

    /**
     * Hands every stored registration to {@code page}, a page at a time, on the calling thread.
     * Blocks: for command-line tools only. Fails on the first unreadable document.
     *
     * @return how many registrations were handed over
     * @throws StoreException if Redis is not connected or fails
     */
    public long forEachPage(Consumer<List<Registration>> page) {
        RedisConnector.Connection c = connection;
        if (c == null) {
            throw notConnected();
        }
        RedisClusterAsyncCommands<String, String> commands = c.commands();
        ScanArgs args = ScanArgs.Builder.matches(keys.clientPattern()).limit(SCAN_COUNT);
        long n = 0;
        try {
            KeyScanCursor<String> cursor = commands.scan(args).toCompletableFuture().join();
            while (true) {
                List<CompletableFuture<String>> docs = new ArrayList<>(cursor.getKeys().size());
                for (String key : cursor.getKeys()) {
                    docs.add(commands.hget(key, RedisKeys.DOC_FIELD).toCompletableFuture());
                }
                List<Registration> regs = new ArrayList<>(docs.size());
                for (CompletableFuture<String> d : docs) {
                    String json = d.join();
                    if (json != null) { // expired or deleted since the scan saw the key
                        regs.add(RegistrationJson.fromJson(json));
                    }
                }
                if (!regs.isEmpty()) {
                    page.accept(regs);
                    n += regs.size();
                }
                if (cursor.isFinished()) {
                    return n;
                }
                cursor = commands.scan(cursor, args).toCompletableFuture().join();
            }
        } catch (CompletionException e) {
            throw storeFailure("scan", e);
        } catch (IllegalArgumentException e) {
            throw new StoreException("stored registration is unreadable: " + e.getMessage());
        }
    }

    /** Stops polling, closes the connections and Lettuce's threads, then the outbox. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        scheduler.shutdownNow();
        RedisConnector.Connection c = connection;
        if (c != null) {
            c.close();
        }
        connector.close();
        if (outbox != null) {
            outbox.close();
        }
    }

    /**
     * Meters (Prometheus names): {@code scopegate_store_redis_up} (1 while Redis answers),
     * {@code scopegate_store_redis_outbox_pending} (writes waiting for Redis),
     * {@code scopegate_store_redis_deferred_writes_total} (writes kept in the outbox),
     * {@code scopegate_store_redis_replayed_writes_total},
     * {@code scopegate_store_redis_errors_total{op=get|write|ping}} (commands Redis failed or
     * could not take), {@code scopegate_store_redis_invalidations_total{cause=message|resync}}
     * (cache entries dropped for another replica's change; whole-cache drops).
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder(MeterNames.STORE_REDIS_UP, this, s -> s.up() ? 1 : 0)
                .description("1 while the Redis registration store answers, else 0").register(registry);
        Gauge.builder(MeterNames.STORE_REDIS_OUTBOX_PENDING, this, RedisRegistrationStore::pending)
                .description("Registration writes kept locally until Redis takes them").register(registry);
        FunctionCounter.builder(MeterNames.STORE_REDIS_DEFERRED_WRITES, deferred, LongAdder::sum)
                .description("Registration writes Redis did not take, kept in the outbox").register(registry);
        FunctionCounter.builder(MeterNames.STORE_REDIS_REPLAYED_WRITES, replayed, LongAdder::sum)
                .description("Kept writes replayed to Redis").register(registry);
        errors(registry, "get", readErrors);
        errors(registry, "write", writeErrors);
        errors(registry, "ping", pingErrors);
        FunctionCounter.builder(MeterNames.STORE_REDIS_INVALIDATIONS, feed.invalidations, LongAdder::sum)
                .tag("cause", "message").description("Cache entries dropped because another replica changed them")
                .register(registry);
        FunctionCounter.builder(MeterNames.STORE_REDIS_INVALIDATIONS, feed.resyncs, LongAdder::sum)
                .tag("cause", "resync").description("Whole-cache drops after notifications may have been missed")
                .register(registry);
    }

    private static void errors(MeterRegistry registry, String op, LongAdder count) {
        FunctionCounter.builder(MeterNames.STORE_REDIS_ERRORS, count, LongAdder::sum).tag("op", op)
                .description("Redis commands that failed or could not be sent").register(registry);
    }

    // ---- writes ----

    /** Writes to Redis, or else to the outbox; completes with the script's result or {@link #DEFERRED}. */
    private CompletableFuture<Long> write(String clientId, Registration registration, long at) {
        Outbox.Entry before = outbox == null ? null : outbox.pending(clientId);
        return redisWrite(clientId, registration, at, false).handle((n, e) -> {
            if (e == null) {
                // This write supersedes the kept one: forget it before reporting success, so a
                // read never sees the older kept copy after this write completed.
                return before == null ? CompletableFuture.completedFuture(n)
                        : outbox.done(before).handle((v, ignored) -> n);
            }
            writeErrors.increment();
            if (outbox == null) {
                return CompletableFuture.<Long>failedFuture(storeFailure("write", e));
            }
            return keep(clientId, registration, at, e);
        }).thenCompose(f -> f);
    }

    private CompletableFuture<Long> keep(String clientId, Registration registration, long at, Throwable redisFailure) {
        return outbox.keep(clientId, registration, at).handle((entry, e) -> {
            if (e != null) {
                log.error("registration write lost by both Redis ({}) and the outbox ({}): failing it",
                        rootMessage(redisFailure), rootMessage(e));
                throw storeFailure("write", e);
            }
            deferred.increment();
            if (!warnedDeferral) {
                warnedDeferral = true;
                log.warn("Redis {} did not take a registration write ({}): kept in {} until Redis is back",
                        connector.description(), rootMessage(redisFailure), outbox.file());
            }
            scheduleReplaySoon();
            return DEFERRED;
        });
    }

    /** One write script: {@code guarded} for replays, which must not replace a newer entry. */
    private CompletableFuture<Long> redisWrite(String clientId, Registration registration, long at, boolean guarded) {
        RedisConnector.Connection c = connection;
        if (c == null) {
            return CompletableFuture.failedFuture(notConnected());
        }
        String doc = registration == null ? "" : RegistrationJson.toJson(registration);
        String key = keys.client(clientId);
        RedisClusterAsyncCommands<String, String> commands = c.commands();
        return commands.incr(keys.seq()).toCompletableFuture().thenCompose(seq -> Scripts.write(commands, key,
                registration == null ? "del" : "put", doc, Long.toString(at), ttlMillis, guarded ? "1" : "0",
                keys.channel(), feed.message(seq, clientId)));
    }

    // ---- background: connect, probe, replay ----

    private CompletableFuture<RedisConnector.Connection> connect() {
        return connector.connect(true).whenComplete((c, e) -> {
            if (e != null) {
                scheduleReconnect();
                return;
            }
            if (closed.get()) {
                c.closeAsync(); // on a Lettuce thread: must not wait for it
                return;
            }
            connection = c;
            probeOk = true;
            feed.attach(c.pubSub());
            if (reportedDown) {
                reportedDown = false;
                log.info("Redis {} connected ({})", connector.description(), c.mode().name().toLowerCase(java.util.Locale.ROOT));
            } else {
                log.info("registration store: Redis {} ({})", connector.description(),
                        c.mode().name().toLowerCase(java.util.Locale.ROOT));
            }
            scheduleReplaySoon();
        });
    }

    private void scheduleReconnect() {
        if (closed.get()) {
            return;
        }
        long delay;
        synchronized (this) {
            delay = reconnectDelayMillis;
            reconnectDelayMillis = Math.min(reconnectDelayMillis * 2, 5_000);
        }
        try {
            scheduler.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private void scheduleReplaySoon() {
        if (outbox != null && outbox.size() > 0 && !closed.get()) {
            try {
                scheduler.execute(this::replay);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    /** Polls the change counter: a health probe, a missed-notification check, and a replay trigger. */
    private void tick() {
        RedisConnector.Connection c = connection;
        if (c == null) {
            return;
        }
        c.commands().get(keys.seq()).toCompletableFuture().whenComplete((value, e) -> {
            boolean ok = e == null && c.isOpen();
            probeOk = ok;
            if (!ok) {
                if (!reportedDown) {
                    reportedDown = true;
                    log.warn("Redis {} unreachable ({}): reads served from the cache{}; the proxy keeps serving",
                            connector.description(), e == null ? "connection closed" : rootMessage(e),
                            outbox == null ? "" : ", writes kept in " + outbox.file());
                }
                return;
            }
            if (reportedDown) {
                reportedDown = false;
                log.info("Redis {} reachable again{}", connector.description(),
                        pending() == 0 ? "" : ": replaying " + pending() + " kept writes");
            }
            warnedDeferral = false;
            feed.ensureSubscribed(c.pubSub());
            feed.polled(parseSeq(value));
            replay();
        });
    }

    /** Replays kept writes oldest first, one at a time; stops at the first failure (retried next tick). */
    private void replay() {
        if (outbox == null || outbox.size() == 0 || connection == null || !replaying.compareAndSet(false, true)) {
            return;
        }
        List<Outbox.Entry> entries = outbox.snapshot();
        replayFrom(entries, 0).whenComplete((n, e) -> {
            replaying.set(false);
            if (n != null && n > 0) {
                log.info("replayed {} kept registration writes to Redis{}", n,
                        pending() == 0 ? "" : " (" + pending() + " still waiting)");
            }
        });
    }

    private CompletableFuture<Integer> replayFrom(List<Outbox.Entry> entries, int i) {
        if (i == entries.size() || closed.get()) {
            return CompletableFuture.completedFuture(i);
        }
        Outbox.Entry e = entries.get(i);
        if (outbox.pending(e.clientId()) != e) {
            return replayFrom(entries, i + 1); // replaced or already written since the snapshot
        }
        return redisWrite(e.clientId(), e.registration(), e.at(), true)
                .thenCompose(n -> outbox.done(e))
                .handle((v, failure) -> {
                    if (failure != null) {
                        return CompletableFuture.completedFuture(i);
                    }
                    replayed.increment();
                    return replayFrom(entries, i + 1);
                }).thenCompose(f -> f);
    }

    // ---- helpers ----

    private static long parseSeq(String value) {
        if (value == null) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private StoreException notConnected() {
        return new StoreException("Redis " + connector.description() + " is not connected");
    }

    private StoreException storeFailure(String op, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof StoreException se) {
            return se;
        }
        return new StoreException("Redis " + op + " failed: " + rootMessage(cause), cause);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
