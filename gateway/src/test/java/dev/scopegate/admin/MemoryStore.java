package dev.scopegate.admin;

import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationStore;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** An in-memory {@link RegistrationStore} completing at once. Thread-safe. */
final class MemoryStore implements RegistrationStore {

    final ConcurrentHashMap<String, Registration> rows = new ConcurrentHashMap<>();

    @Override
    public CompletableFuture<Optional<Registration>> get(String clientId) {
        return CompletableFuture.completedFuture(Optional.ofNullable(rows.get(clientId)));
    }

    @Override
    public CompletableFuture<Void> put(Registration registration) {
        rows.put(registration.clientId(), registration);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Boolean> delete(String clientId) {
        return CompletableFuture.completedFuture(rows.remove(clientId) != null);
    }

    @Override
    public CompletableFuture<Void> ping() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Long> count() {
        return CompletableFuture.completedFuture((long) rows.size());
    }

    @Override
    public void close() {
    }
}
