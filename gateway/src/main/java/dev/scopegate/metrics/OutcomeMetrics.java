package dev.scopegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Meters of what the IdP answered to the requests scopegate changed ({@link MeterNames#REWRITE_OUTCOMES},
 * {@link MeterNames#SCOPE_DEMOTIONS}), of {@code scope.add-always} ({@link MeterNames#ADD_ALWAYS}) and of
 * {@code compat.add-iss} ({@link MeterNames#ISS_ADDED}). Label values come from closed sets (sources,
 * configured families, outcomes, error codes): never a client_id. Called only for requests scopegate
 * changed. Thread-safe.
 */
public final class OutcomeMetrics {

    private final MeterRegistry registry;
    /** source → family → error label → counter. */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>>> outcomes =
            new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> demotions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> addAlways = new ConcurrentHashMap<>();
    private final Counter issAdded;

    public OutcomeMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.issAdded = Counter.builder(MeterNames.ISS_ADDED)
                .description("Authorization responses given iss (compat.add-iss)").register(registry);
    }

    /**
     * One answer of the IdP to a rewritten request: {@code error} {@code none} is an acceptance,
     * any other value a rejection. Allocation-free once the label set exists.
     */
    public void outcome(String source, String family, String error) {
        ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>> byFamily = outcomes.get(source);
        ConcurrentHashMap<String, Counter> byError = byFamily == null ? null : byFamily.get(family);
        Counter c = byError == null ? null : byError.get(error);
        (c != null ? c : outcome0(source, family, error)).increment();
    }

    /** Creates the accepted and rejected/invalid_scope series of this source and family at zero. */
    public void declare(String source, String family) {
        outcome0(source, family, "none");
        outcome0(source, family, "invalid_scope");
    }

    private Counter outcome0(String source, String family, String error) {
        return outcomes.computeIfAbsent(source, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(family, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(error, e -> Counter.builder(MeterNames.REWRITE_OUTCOMES)
                        .description("The IdP's answers to requests scopegate added a scope to")
                        .tag(MeterNames.TAG_SOURCE, source).tag(MeterNames.TAG_FAMILY, family)
                        .tag(MeterNames.TAG_OUTCOME, "none".equals(e) ? "accepted" : "rejected")
                        .tag(MeterNames.TAG_ERROR, e).register(registry));
    }

    public void demoted(String source) {
        Counter c = demotions.get(source);
        if (c != null) {
            c.increment();
            return;
        }
        demotions.computeIfAbsent(source, s -> Counter.builder(MeterNames.SCOPE_DEMOTIONS)
                .description("Added scopes demoted after the IdP rejected them with invalid_scope")
                .tag(MeterNames.TAG_SOURCE, s).register(registry)).increment();
    }

    public void addAlways(String family) {
        Counter c = addAlways.get(family);
        if (c != null) {
            c.increment();
            return;
        }
        addAlways.computeIfAbsent(family, f -> Counter.builder(MeterNames.ADD_ALWAYS)
                .description("Requests with a scope extended by scope.add-always, by client family")
                .tag(MeterNames.TAG_FAMILY, f).register(registry)).increment();
    }

    public void issAdded() {
        issAdded.increment();
    }
}
