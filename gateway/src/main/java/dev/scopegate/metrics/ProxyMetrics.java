package dev.scopegate.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Meters of the proxy path. Meters are resolved once (eagerly or on first use, then kept in
 * arrays or maps read without allocating), so recording allocates nothing per request. The
 * upstream-latency histogram (one per route, created at construction) has fixed buckets from 1 ms
 * to 10 s, where an IdP's answers fall.
 * Thread-safe.
 */
public final class ProxyMetrics {

    public static final String PREFIX = "scopegate_";

    /** Method label values; anything else is {@code other}. */
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};
    private static final String[] STATUS = {"1xx", "2xx", "3xx", "4xx", "5xx", "aborted"};

    private final MeterRegistry registry;
    private final String[] routes;
    private final AtomicReferenceArray<Counter> requests;
    /** One timer per route, indexed like {@link #routes}. */
    private final Timer[] upstreamLatency;
    private final Counter metadataWaitResumed;
    private final Counter metadataWaitUnavailable;
    private final AtomicInteger openConnections = new AtomicInteger();
    private final AtomicInteger activeExchanges = new AtomicInteger();
    private final ConcurrentHashMap<String, Counter> upstreamErrors = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> refusals = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> overCap = new ConcurrentHashMap<>();

    /** @param routeLabels the {@code route} label values, indexed by the caller's route ordinal */
    public ProxyMetrics(MeterRegistry registry, String[] routeLabels) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.routes = routeLabels.clone();
        this.requests = new AtomicReferenceArray<>(routes.length * METHODS.length * STATUS.length);
        this.upstreamLatency = new Timer[routes.length];
        for (int r = 0; r < routes.length; r++) {
            upstreamLatency[r] = Timer.builder(MeterNames.UPSTREAM_LATENCY)
                    .description("Time from sending a request upstream to its first response byte, by route")
                    .tag("route", routes[r])
                    .serviceLevelObjectives(slos())
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry);
        }
        this.metadataWaitResumed = metadataWaitCounter(registry, "resumed");
        this.metadataWaitUnavailable = metadataWaitCounter(registry, "unavailable");
        registry.gauge(MeterNames.CONNECTIONS_OPEN, openConnections);
        registry.gauge(MeterNames.EXCHANGES_ACTIVE, activeExchanges);
        // Declared at zero so that rate() and increase() see the first event of each.
        for (String cap : new String[]{"form", "capture"}) {
            bodyOverCap0(cap);
        }
    }

    private static Counter metadataWaitCounter(MeterRegistry registry, String outcome) {
        return Counter.builder(MeterNames.METADATA_WAITS)
                .description("Requests held until the IdP's first metadata, by outcome (resumed, unavailable = 503)")
                .tag("outcome", outcome).register(registry);
    }

    private static Duration[] slos() {
        long[] ms = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
        Duration[] d = new Duration[ms.length];
        for (int i = 0; i < ms.length; i++) {
            d[i] = Duration.ofMillis(ms[i]);
        }
        return d;
    }

    public static int methodIndex(String method) {
        for (int i = 0; i < METHODS.length - 1; i++) {
            if (METHODS[i].equals(method)) {
                return i;
            }
        }
        return METHODS.length - 1;
    }

    /** @param status the HTTP status, or a negative value for an aborted exchange */
    public void request(int route, int methodIndex, int status) {
        int cls = status < 0 ? STATUS.length - 1 : Math.min(Math.max(status / 100 - 1, 0), 4);
        int idx = (route * METHODS.length + methodIndex) * STATUS.length + cls;
        Counter c = requests.get(idx);
        if (c == null) {
            c = Counter.builder(MeterNames.REQUESTS)
                    .description("Requests by route, method and status class")
                    .tag("route", routes[route]).tag("method", METHODS[methodIndex]).tag("status", STATUS[cls])
                    .register(registry);
            requests.set(idx, c);
        }
        c.increment();
    }

    /** @param route the caller's route ordinal, as in {@link #request} */
    public void upstreamLatency(int route, long nanos) {
        upstreamLatency[route].record(nanos, TimeUnit.NANOSECONDS);
    }

    /** @param kind the failure kind as the caller names it (any case); the label is lower-case */
    public void upstreamError(String kind) {
        Counter c = upstreamErrors.get(kind);
        (c != null ? c : upstreamError0(kind)).increment();
    }

    /**
     * Creates the upstream-error counters of these kinds (named as {@link #upstreamError} will be
     * called) at zero, so that an alert's {@code rate()} sees the very first fault.
     */
    public void declareUpstreamErrors(Iterable<String> kinds) {
        for (String kind : kinds) {
            upstreamError0(kind);
        }
    }

    private Counter upstreamError0(String kind) {
        return upstreamErrors.computeIfAbsent(kind, k -> Counter.builder(MeterNames.UPSTREAM_ERRORS)
                .description("Upstream faults by kind").tag("kind", k.toLowerCase(Locale.ROOT))
                .register(registry));
    }

    /**
     * A request held before the IdP's first metadata: resumed once the endpoints were known
     * ({@code true}), or answered 503 because they could not be had ({@code false}).
     */
    public void metadataWait(boolean resumed) {
        (resumed ? metadataWaitResumed : metadataWaitUnavailable).increment();
    }

    /** A request refused by scopegate itself (400, 413, 414, 431 …) by reason. */
    public void refused(String reason) {
        Counter c = refusals.get(reason);
        if (c == null) {
            c = refusals.computeIfAbsent(reason, k -> Counter.builder(MeterNames.REFUSALS)
                    .description("Requests refused by scopegate by reason").tag("reason", k).register(registry));
        }
        c.increment();
    }

    /** A body larger than the cap of its route ({@code form}, {@code capture}). */
    public void bodyOverCap(String which) {
        Counter c = overCap.get(which);
        (c != null ? c : bodyOverCap0(which)).increment();
    }

    private Counter bodyOverCap0(String which) {
        return overCap.computeIfAbsent(which, k -> Counter.builder(MeterNames.BODIES_OVER_CAP)
                .description("Bodies larger than their cap").tag("cap", k).register(registry));
    }

    public void connectionOpened() {
        openConnections.incrementAndGet();
    }

    public void connectionClosed() {
        openConnections.decrementAndGet();
    }

    public void exchangeStarted() {
        activeExchanges.incrementAndGet();
    }

    public void exchangeEnded() {
        activeExchanges.decrementAndGet();
    }

    public int activeExchanges() {
        return activeExchanges.get();
    }

    public MeterRegistry registry() {
        return registry;
    }
}
