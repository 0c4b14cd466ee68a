package dev.scopegate.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The process's Prometheus registry, configured once: JVM and process binders bound, Caffeine's
 * {@code cache.*} meters renamed to {@code scopegate.cache.*} (so every scopegate meter shares
 * the prefix; JVM and process meters keep their standard names, which stock dashboards expect),
 * and a guard that caps the number of label values of the family-labelled meters should a
 * config ever name hundreds of families. Thread-safe (the registry is).
 */
public final class MetricsRegistry implements AutoCloseable {

    /** Most distinct {@code family} values per meter; more are dropped rather than exploding the scrape. */
    static final int MAX_FAMILIES = 100;

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc;

    private MetricsRegistry() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config()
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        return id.getName().startsWith("cache.")
                                ? id.withName(MeterNames.CACHE_PREFIX + id.getName().substring("cache.".length()))
                                : id;
                    }
                })
                .meterFilter(MeterFilter.maximumAllowableTags(MeterNames.REWRITES, "family", MAX_FAMILIES,
                        MeterFilter.deny()))
                .meterFilter(MeterFilter.maximumAllowableTags(MeterNames.REWRITES_DRY_RUN, "family", MAX_FAMILIES,
                        MeterFilter.deny()))
                .meterFilter(MeterFilter.maximumAllowableTags(MeterNames.REWRITE_UNRESOLVED, "family", MAX_FAMILIES,
                        MeterFilter.deny()));
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** A registry with the JVM and process meters bound. */
    public static MetricsRegistry create() {
        return new MetricsRegistry();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
