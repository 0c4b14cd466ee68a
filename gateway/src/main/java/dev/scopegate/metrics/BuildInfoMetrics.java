package dev.scopegate.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;

/** {@code scopegate_build_info{version,revision} 1}: which build a scraped process runs. */
public final class BuildInfoMetrics {

    private BuildInfoMetrics() {
    }

    public static void bind(MeterRegistry registry, String version, String revision) {
        Gauge.builder(MeterNames.BUILD_INFO, () -> 1)
                .description("The running build: version and git revision; the value is always 1")
                .tag("version", Objects.requireNonNull(version, "version"))
                .tag("revision", Objects.requireNonNull(revision, "revision"))
                .register(registry);
    }
}
