package dev.scopegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Meters of the certificate files scopegate watches: {@code scopegate_tls_reloads_total{context,
 * outcome}} and {@code scopegate_tls_certificate_expiry_timestamp_seconds{context}} (the
 * {@code notAfter} of the certificate in use, so that an alert can tell a rotation that never
 * came). Contexts: {@code listener}, {@code upstream}. Thread-safe.
 */
public final class TlsMetrics {

    public static final String LISTENER = "listener";
    public static final String UPSTREAM = "upstream";

    private final MeterRegistry registry;
    private final Map<String, AtomicLong> expiry = new ConcurrentHashMap<>();

    public TlsMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Both reload counters of {@code context} at zero, so that rates and alerts see them from the start. */
    public void declare(String context) {
        counter(context, true);
        counter(context, false);
    }

    /** Files of {@code context} were re-read: {@code ok}, or kept the running certificate. */
    public void reloaded(String context, boolean ok) {
        counter(context, ok).increment();
    }

    /** {@code certificate} is now the one {@code context} presents. */
    public void inUse(String context, X509Certificate certificate) {
        expiry.computeIfAbsent(context, c -> {
            AtomicLong cell = new AtomicLong();
            Gauge.builder(MeterNames.TLS_CERTIFICATE_EXPIRY, cell, AtomicLong::get).tag("context", c)
                    .description("When the certificate in use expires (notAfter), seconds since the epoch")
                    .baseUnit("seconds").strongReference(true).register(registry);
            return cell;
        }).set(certificate.getNotAfter().toInstant().getEpochSecond());
    }

    private Counter counter(String context, boolean ok) {
        return Counter.builder(MeterNames.TLS_RELOADS).tag("context", context).tag("outcome", ok ? "ok" : "failed")
                .description("Certificate files re-read after a change; failed: the running certificate was kept")
                .register(registry);
    }
}
