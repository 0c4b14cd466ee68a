package dev.scopegate.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Meters of the IdP metadata cache, read from its {@link Source} at scrape time:
 * {@code scopegate_metadata_refreshes_total}, {@code scopegate_metadata_failures_total},
 * {@code scopegate_metadata_age_seconds} and {@code scopegate_metadata_last_success_timestamp_seconds}
 * (both NaN until the first success) and {@code scopegate_metadata_ready}. Nothing is recorded on
 * the request path. Thread-safe.
 */
public final class MetadataMetrics {

    private MetadataMetrics() {
    }

    /**
     * What the meters read, declared here so that {@code metrics} stays below the packages it
     * measures ({@code oauth.metadata.MetadataService} implements it). Called at scrape time, on
     * the registry's thread.
     */
    public interface Source {
        /** Successful metadata rounds so far. */
        long refreshes();

        /** Failed metadata rounds so far. */
        long failures();

        /** When the last round succeeded; null before the first. */
        /* nullable */ Instant lastSuccess();

        /** Whether metadata was fetched once. */
        boolean ready();
    }

    /** Registers the meters; they hold {@code metadata} strongly, for the registry's lifetime. */
    public static void bind(MeterRegistry registry, Source metadata, Clock clock) {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(clock, "clock");
        FunctionCounter.builder(MeterNames.METADATA_REFRESHES, metadata, Source::refreshes)
                .description("Successful IdP metadata rounds").register(registry);
        FunctionCounter.builder(MeterNames.METADATA_FAILURES, metadata, Source::failures)
                .description("Failed IdP metadata rounds (the last good copy is served)").register(registry);
        Gauge.builder(MeterNames.METADATA_AGE, metadata, m -> ageSeconds(m.lastSuccess(), clock))
                .description("Seconds since IdP metadata was last fetched successfully; NaN before the first success")
                .baseUnit("seconds").strongReference(true).register(registry);
        Gauge.builder(MeterNames.METADATA_LAST_SUCCESS, metadata, m -> epochSeconds(m.lastSuccess()))
                .description("Unix time of the last successful IdP metadata round; NaN before the first success")
                .baseUnit("seconds").strongReference(true).register(registry);
        Gauge.builder(MeterNames.METADATA_READY, metadata, m -> m.ready() ? 1 : 0)
                .description("1 once IdP metadata has been fetched, else 0").strongReference(true).register(registry);
    }

    static double epochSeconds(/* nullable */ Instant lastSuccess) {
        return lastSuccess == null ? Double.NaN : lastSuccess.toEpochMilli() / 1000.0;
    }

    static double ageSeconds(/* nullable */ Instant lastSuccess, Clock clock) {
        if (lastSuccess == null) {
            return Double.NaN;
        }
        return Math.max(0, Duration.between(lastSuccess, clock.instant()).toMillis() / 1000.0);
    }
}
