package dev.scopegate.loadtest;

import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationStore;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link RegistrationStore} in memory that completes every call at once and counts reads, so
 * benchmarks see the cache in front of it and can tell how often it was asked. With
 * {@code retain = false} it keeps nothing (puts are acknowledged and dropped), so a footprint
 * measurement counts the cache alone. Thread-safe.
 */
public final class MemoryStore implements RegistrationStore {

    private final ConcurrentMap<String, Registration> map = new ConcurrentHashMap<>();
    private final boolean retain;
    private final AtomicLong reads = new AtomicLong();

    public MemoryStore(boolean retain) {
        this.retain = retain;
    }

    /** Number of {@link #get} calls so far. */
    public long reads() {
        return reads.get();
    }

    @Override
    public CompletableFuture<Optional<Registration>> get(String clientId) {
        reads.incrementAndGet();
        return CompletableFuture.completedFuture(Optional.ofNullable(map.get(clientId)));
    }

    @Override
    public CompletableFuture<Void> put(Registration registration) {
        if (retain) {
            map.put(registration.clientId(), registration);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Boolean> delete(String clientId) {
        return CompletableFuture.completedFuture(map.remove(clientId) != null);
    }

    @Override
    public CompletableFuture<Void> ping() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Long> count() {
        return CompletableFuture.completedFuture((long) map.size());
    }

    @Override
    public void close() {
    }
}
