package dev.scopegate.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * {@code scopegate_ready}: 1 while the gateway is ready, else 0, read at scrape time from the
 * conditions {@code /readyz} checks that cost nothing to read (listener accepting, not draining,
 * IdP metadata fetched once). The store ping is left out: it is I/O, and a scrape must not wait on
 * the store. An alert on this gauge sees what a readiness probe sees, from Prometheus. Thread-safe.
 */
public final class ReadinessMetrics {

    private ReadinessMetrics() {
    }

    /** Registers the gauge; it holds {@code ready} strongly, for the registry's lifetime. */
    public static void bind(MeterRegistry registry, BooleanSupplier ready) {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(ready, "ready");
        Gauge.builder(MeterNames.READY, ready, r -> r.getAsBoolean() ? 1 : 0)
                .description("1 while ready (listening, not draining, IdP metadata fetched once; store not checked), else 0")
                .strongReference(true).register(registry);
    }
}
