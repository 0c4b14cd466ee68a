package dev.scopegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;

/**
 * Meters of learned issuers ({@code metadata.issuers}): {@code scopegate_metadata_issuers_learned}
 * and {@code scopegate_metadata_issuer_discoveries_total{outcome}}, every outcome declared at
 * zero. Thread-safe.
 */
public final class IssuerMetrics {

    private final Map<String, Counter> outcomes;

    /**
     * @param outcomes every outcome label, declared at zero
     * @param learned read at scrape time
     */
    public IssuerMetrics(MeterRegistry registry, List<String> outcomes, IntSupplier learned) {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(learned, "learned");
        Gauge.builder(MeterNames.METADATA_ISSUERS_LEARNED, learned, IntSupplier::getAsInt)
                .description("Issuers learned from discovery requests (metadata.issuers)")
                .strongReference(true).register(registry);
        this.outcomes = outcomes.stream().collect(Collectors.toUnmodifiableMap(o -> o, o ->
                Counter.builder(MeterNames.METADATA_ISSUER_DISCOVERIES).tag("outcome", o)
                        .description("Discovery requests for an issuer path not known yet, by outcome")
                        .register(registry)));
    }

    /** Counts one outcome (a declared label). */
    public void discovery(String outcome) {
        Counter c = outcomes.get(outcome);
        if (c != null) {
            c.increment();
        }
    }
}
