package dev.scopegate.store;

import dev.scopegate.metrics.MeterNames;
import dev.scopegate.model.Registration;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * A {@link RegistrationStore} that counts its delegate's failures by operation
 * ({@code scopegate_store_errors_total{op}}), publishes the number of stored registrations
 * ({@code scopegate_registrations_stored}, as of the last {@link #refreshCount()}; NaN before)
 * and whether the store answered its last {@link #ping()} ({@code scopegate_store_up}, 1/0; NaN
 * before the first answer).
 * Adds no thread hop and no allocation beyond one completion callback per call. Thread-safe
 * like its delegate.
 */
public final class MeteredRegistrationStore implements RegistrationStore {

    private final RegistrationStore delegate;
    private final Counter getErrors;
    private final Counter putErrors;
    private final Counter deleteErrors;
    private final Counter pingErrors;
    private final Counter countErrors;
    private final AtomicLong stored = new AtomicLong(-1);
    /** 1 up, 0 down, -1 not pinged yet. */
    private final AtomicInteger up = new AtomicInteger(-1);

    public MeteredRegistrationStore(RegistrationStore delegate, MeterRegistry registry) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        Objects.requireNonNull(registry, "registry");
        getErrors = errors(registry, "get");
        putErrors = errors(registry, "put");
        deleteErrors = errors(registry, "delete");
        pingErrors = errors(registry, "ping");
        countErrors = errors(registry, "count");
        Gauge.builder(MeterNames.REGISTRATIONS_STORED, stored, s -> s.get() < 0 ? Double.NaN : s.get())
                .description("Registrations in the store, as of the last count").strongReference(true)
                .register(registry);
        Gauge.builder(MeterNames.STORE_UP, up, u -> u.get() < 0 ? Double.NaN : u.get())
                .description("1 when the registration store answered its last ping, else 0").strongReference(true)
                .register(registry);
    }

    private static Counter errors(MeterRegistry registry, String op) {
        return Counter.builder(MeterNames.STORE_ERRORS).description("Failed registration store operations")
                .tag("op", op).register(registry);
    }

    @Override
    public CompletableFuture<Optional<Registration>> get(String clientId) {
        return counted(delegate.get(clientId), getErrors);
    }

    @Override
    public CompletableFuture<Void> put(Registration registration) {
        return counted(delegate.put(registration), putErrors);
    }

    @Override
    public CompletableFuture<Void> putAll(List<Registration> registrations) {
        return counted(delegate.putAll(registrations), putErrors);
    }

    @Override
    public CompletableFuture<Boolean> delete(String clientId) {
        return counted(delegate.delete(clientId), deleteErrors);
    }

    /** Pings the delegate; the answer (or failure) also sets {@code scopegate_store_up}. */
    @Override
    public CompletableFuture<Void> ping() {
        CompletableFuture<Void> f = counted(delegate.ping(), pingErrors);
        f.whenComplete((v, e) -> up.set(e == null ? 1 : 0));
        return f;
    }

    @Override
    public CompletableFuture<Long> count() {
        return counted(delegate.count(), countErrors).whenComplete((n, e) -> {
            if (e == null && n != null) {
                stored.set(n);
            }
        });
    }

    /** Counts the store in the background and updates the gauge when the answer comes. Never blocks. */
    public void refreshCount() {
        count();
    }

    @Override
    public void close() {
        delegate.close();
    }

    /** The same future, so callers keep the delegate's completion thread and semantics. */
    private static <T> CompletableFuture<T> counted(CompletableFuture<T> f, Counter errors) {
        f.whenComplete(onError(errors));
        return f;
    }

    private static <T> BiConsumer<T, Throwable> onError(Counter errors) {
        return (v, e) -> {
            if (e != null) {
                errors.increment();
            }
        };
    }
}
