package dev.scopegate;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.MeterNames;
import dev.scopegate.store.MeteredRegistrationStore;
import dev.scopegate.store.RegistrationRepository;
import dev.scopegate.store.RegistrationStore;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import dev.scopegate.store.redis.RedisRegistrationStore;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The store's part of the wiring: which store the config names, its meters and the caches in
 * front of it. Used by {@link Gateway} and by the {@code import} command. Stateless.
 */
final class Stores {

    /** How often the number of stored registrations is re-counted for its gauge. */
    private static final Duration STORE_COUNT_INTERVAL = Duration.ofSeconds(30);
    /** How often the store is pinged for {@code scopegate_store_up} (each {@code /readyz} pings too). */
    private static final Duration STORE_PING_INTERVAL = Duration.ofSeconds(5);

    private Stores() {
    }

    /** @param gateway true for the gateway: Redis writes it cannot make wait in a local outbox; CLI tools fail instead */
    static RegistrationStore open(ScopegateConfig c, boolean gateway) {
        if (c.store().type() == ScopegateConfig.StoreType.REDIS) {
            RedisRegistrationStore.Settings settings = RedisRegistrationStore.Settings.from(c);
            return new RedisRegistrationStore(gateway ? settings : settings.withoutOutbox(), Clock.systemUTC());
        }
        return new SqliteRegistrationStore(Path.of(c.store().path()));
    }

    /** The store with its meters, re-counted and pinged on {@code scheduler}. */
    static MeteredRegistrationStore metered(RegistrationStore opened, PrometheusMeterRegistry registry,
                                           ScheduledExecutorService scheduler) {
        MeteredRegistrationStore store = new MeteredRegistrationStore(opened, registry);
        if (opened instanceof SqliteRegistrationStore embedded) {
            embedded.bindTo(registry);
        }
        scheduler.scheduleWithFixedDelay(store::refreshCount, 0, STORE_COUNT_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        // Asynchronous: the scheduler thread only sends the ping; the answer sets scopegate_store_up.
        scheduler.scheduleWithFixedDelay(store::ping, 0, STORE_PING_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        return store;
    }

    /**
     * The registration caches in front of {@code store}; with Redis ({@code shared}, else null),
     * kept coherent with the other replicas.
     */
    static RegistrationRepository registrations(ScopegateConfig c, RegistrationStore store,
                                                /* nullable */ RedisRegistrationStore shared,
                                                PrometheusMeterRegistry registry, Clock clock) {
        // Cache maintenance (draining the read buffers every few reads) runs on the thread that
        // triggers it: it is short and never blocks, and handing it to a pool cost every ~16th
        // cached read a thread wake-up (futex, context switch) that showed in the authorize profile.
        RegistrationRepository registrations = new RegistrationRepository(store, c.cache().registrations().maxSize(),
                c.cache().unknownClients().maxSize(), c.cache().registrations().expireAfterAccess(),
                RegistrationRepository.DEFAULT_NEGATIVE_TTL, shared == null ? null : shared.cacheRefresh(),
                Ticker.systemTicker(), Runnable::run, clock);
        if (shared != null) {
            // Other replicas write the same Redis: their changes evict ours (cross-replica coherence).
            shared.onRemoteChange(registrations::invalidate, registrations::invalidateAll);
            shared.bindTo(registry);
        }
        CaffeineCacheMetrics.monitor(registry, registrations.cache(), MeterNames.CACHE_REGISTRATIONS);
        CaffeineCacheMetrics.monitor(registry, registrations.unknownClients(), MeterNames.CACHE_UNKNOWN_CLIENTS);
        return registrations;
    }
}
