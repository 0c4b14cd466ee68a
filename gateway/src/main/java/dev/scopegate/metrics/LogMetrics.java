package dev.scopegate.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * {@code scopegate_log_dropped_total}: access and audit lines the buffered log appender dropped
 * rather than block an event loop (its writer was behind, or a write failed). Read at scrape time
 * from a source the caller names, so logging knows nothing of metrics. Thread-safe.
 */
public final class LogMetrics {

    private LogMetrics() {
    }

    /**
     * Registers the counter. Micrometer holds {@code source} weakly: pass a long-lived object
     * (the SLF4J logger factory), not a lambda.
     */
    public static <T> void bind(MeterRegistry registry, T source, ToLongFunction<T> dropped) {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(dropped, "dropped");
        FunctionCounter.builder(MeterNames.LOG_DROPPED, source, s -> dropped.applyAsLong(s))
                .description("Log lines dropped because the log writer was behind or failing").register(registry);
    }
}
