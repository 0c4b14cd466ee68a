package dev.scopegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Meters of config reloads: {@code scopegate_config_reloads_total} (applied),
 * {@code scopegate_config_reload_failures_total} (rejected, old config kept),
 * {@code scopegate_config_last_reload_successful} (0 until a good file is back) and
 * {@code scopegate_config_restart_pending} (1 while the file holds a change only a restart
 * applies). Thread-safe.
 */
public final class ReloadMetrics {

    private final Counter reloads;
    private final Counter failures;
    private final AtomicInteger lastSuccessful = new AtomicInteger(1);
    private final AtomicInteger restartPending = new AtomicInteger();

    public ReloadMetrics(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        reloads = Counter.builder(MeterNames.CONFIG_RELOADS).description("Config reloads applied").register(registry);
        failures = Counter.builder(MeterNames.CONFIG_RELOAD_FAILURES)
                .description("Config reloads rejected; the running config was kept").register(registry);
        Gauge.builder(MeterNames.CONFIG_LAST_RELOAD_SUCCESSFUL, lastSuccessful, AtomicInteger::get)
                .description("1 when the last reload attempt succeeded, 0 when it was rejected")
                .strongReference(true).register(registry);
        Gauge.builder(MeterNames.CONFIG_RESTART_PENDING, restartPending, AtomicInteger::get)
                .description("1 while the config file holds a change that needs a restart")
                .strongReference(true).register(registry);
    }

    /** A reload was applied; {@code restartPending}: some changed setting waits for a restart. */
    public void applied(boolean restartPending) {
        reloads.increment();
        lastSuccessful.set(1);
        this.restartPending.set(restartPending ? 1 : 0);
    }

    /** A reload was rejected. */
    public void rejected() {
        failures.increment();
        lastSuccessful.set(0);
    }
}
