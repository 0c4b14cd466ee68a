package dev.scopegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Collection;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Meters of scope normalization and registration capture. Label values come from small closed
 * sets (sources, skip reasons, configured family names): never a client_id. Each label set's
 * counter is created once and then found by plain map reads, so recording on the hot path
 * allocates nothing. Thread-safe.
 */
public final class ScopeMetrics {

    /** Actions of an unresolved request: forwarded unchanged, or answered with {@code invalid_scope}. */
    private static final String[] UNRESOLVED_ACTIONS = {"forward", "reject"};

    private final MeterRegistry registry;
    private final Table rewrites = new Table();
    private final Table dryRuns = new Table();
    private final Table unresolved = new Table();
    private final ConcurrentHashMap<String, Counter> skips = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> registrations = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> learned = new ConcurrentHashMap<>();

    public ScopeMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        for (String event : new String[]{"captured", "updated", "deleted", "rejected", "failed"}) {
            registration0(event);
        }
    }

    /**
     * Creates the rewrite, dry-run and unresolved counters of these families and sources at zero, so that a dashboard's
     * {@code rate()} and an alert's {@code increase()} see their first event. Called at start and
     * after each reload (families are configured); counters of families no longer configured stay.
     */
    public void declare(Collection<String> families, Collection<String> sources) {
        for (String family : families) {
            for (String source : sources) {
                rewrite0(source, family);
                dryRun0(source, family);
            }
            for (String action : UNRESOLVED_ACTIONS) {
                unresolved0(family, action);
            }
        }
    }

    /**
     * A scope was added ({@code scopegate_rewrites_total}), or would have been but dry-run
     * forwarded the request unchanged ({@code scopegate_rewrites_dry_run_total}): each decision is
     * counted in exactly one of the two, so {@code rewrites_total} counts only requests changed.
     */
    public void rewrite(String source, String family, boolean dryRun) {
        if (dryRun) {
            Counter d = dryRuns.get(source, family);
            (d != null ? d : dryRun0(source, family)).increment();
        } else {
            Counter c = rewrites.get(source, family);
            (c != null ? c : rewrite0(source, family)).increment();
        }
    }

    public void skip(String reason) {
        Counter c = skips.get(reason);
        if (c == null) {
            c = skips.computeIfAbsent(reason, r -> Counter.builder(MeterNames.REWRITE_SKIPS)
                    .description("Authorization requests left alone, by reason").tag("reason", r).register(registry));
        }
        c.increment();
    }

    public void unresolved(String family, String action) {
        Counter c = unresolved.get(family, action);
        (c != null ? c : unresolved0(family, action)).increment();
    }

    /** {@code event}: captured, updated, deleted, rejected, failed. */
    public void registration(String event) {
        Counter c = registrations.get(event);
        (c != null ? c : registration0(event)).increment();
    }

    public void learned(String from) {
        Counter c = learned.get(from);
        if (c == null) {
            c = learned.computeIfAbsent(from, f -> Counter.builder(MeterNames.SCOPES_LEARNED)
                    .description("Scopes learned per client, by observation").tag("from", f).register(registry));
        }
        c.increment();
    }

    /** A registration request got a scope ({@code scope.fill-registration}); rare, so built on use. */
    public void registrationScopeFilled(String source, String family) {
        Counter.builder(MeterNames.REGISTRATION_SCOPES_FILLED)
                .description("Registration requests without scope given one, by source and client family")
                .tag("source", source).tag("family", family).register(registry).increment();
    }

    private Counter rewrite0(String source, String family) {
        return rewrites.create(source, family, () -> Counter.builder(MeterNames.REWRITES)
                .description("Authorization requests given a scope, by source and client family")
                .tag("source", source).tag("family", family).register(registry));
    }

    private Counter dryRun0(String source, String family) {
        return dryRuns.create(source, family, () -> Counter.builder(MeterNames.REWRITES_DRY_RUN)
                .description("Scopes decided but not added (scope.dry-run), by source and client family")
                .tag("source", source).tag("family", family).register(registry));
    }

    private Counter unresolved0(String family, String action) {
        return unresolved.create(family, action, () -> Counter.builder(MeterNames.REWRITE_UNRESOLVED)
                .description("Requests without scope for which no source had one")
                .tag("family", family).tag("action", action).register(registry));
    }

    private Counter registration0(String event) {
        return registrations.computeIfAbsent(event, e -> Counter.builder(MeterNames.REGISTRATIONS)
                .description("Registration events").tag("event", e).register(registry));
    }

    /** Counters by two label values; {@link #get} reads two maps and allocates nothing. */
    private static final class Table {
        private final ConcurrentHashMap<String, ConcurrentHashMap<String, Counter>> rows = new ConcurrentHashMap<>();

        Counter get(String a, String b) {
            ConcurrentHashMap<String, Counter> row = rows.get(a);
            return row == null ? null : row.get(b);
        }

        Counter create(String a, String b, java.util.function.Supplier<Counter> make) {
            return rows.computeIfAbsent(a, k -> new ConcurrentHashMap<>()).computeIfAbsent(b, k -> make.get());
        }
    }
}
