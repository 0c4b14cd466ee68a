package dev.scopegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Meters of scope normalization and registration capture. Label values come from small closed
 * sets (sources, skip reasons, configured family names): never a client_id. Counters are
 * resolved once per label set and cached. Thread-safe.
 */
public final class ScopeMetrics {

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

    public ScopeMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    private Counter counter(String name, String description, String k1, String v1, String k2, String v2) {
        String key = name + '\0' + v1 + '\0' + v2;
        Counter c = counters.get(key);
        if (c == null) {
            c = counters.computeIfAbsent(key, k -> {
                Counter.Builder b = Counter.builder(name).description(description).tag(k1, v1);
                if (k2 != null) {
                    b.tag(k2, v2);
                }
                return b.register(registry);
            });
        }
        return c;
    }

    /** A scope was added (or would have been, in dry-run). */
    public void rewrite(String source, String family, boolean dryRun) {
        counter("scopegate.rewrites", "Authorization requests given a scope, by source and client family",
                "source", source, "family", family).increment();
        if (dryRun) {
            counter("scopegate.rewrites.dry.run", "Rewrites decided but not applied (dry-run)", "source", source,
                    null, null).increment();
        }
    }

    public void skip(String reason) {
        counter("scopegate.rewrite.skips", "Authorization requests left alone, by reason", "reason", reason,
                null, null).increment();
    }

    public void unresolved(String family, String action) {
        counter("scopegate.rewrite.unresolved", "Requests without scope for which no source had one",
                "family", family, "action", action).increment();
    }

    /** {@code event}: captured, updated, deleted, rejected, failed. */
    public void registration(String event) {
        counter("scopegate.registrations", "Registration events", "event", event, null, null).increment();
    }

    public void learned(String from) {
        counter("scopegate.scopes.learned", "Scopes learned per client, by observation", "from", from,
                null, null).increment();
    }
}
