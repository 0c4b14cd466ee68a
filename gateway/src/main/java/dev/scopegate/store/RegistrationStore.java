package dev.scopegate.store;

import dev.scopegate.model.Registration;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Durable storage of {@link Registration}s, keyed by {@code client_id}.
 *
 * <p>Every method may be called from any thread, including a Netty event loop: implementations
 * never block the caller; they do their I/O on their own threads and complete the returned
 * future there. A future that completes normally means the change is durable (survives a
 * {@code kill -9} of the process). Callers hop back to their own executor.
 */
public interface RegistrationStore extends AutoCloseable {

    CompletableFuture<Optional<Registration>> get(String clientId);

    /** Inserts or replaces the entry for {@code registration.clientId()}. */
    CompletableFuture<Void> put(Registration registration);

    /**
     * Inserts or replaces every entry (bulk import). Implementations may apply them in one
     * transaction; this default puts them one by one and completes when all are durable, failing
     * if any put failed.
     */
    default CompletableFuture<Void> putAll(List<Registration> registrations) {
        return CompletableFuture.allOf(registrations.stream().map(this::put).toArray(CompletableFuture[]::new));
    }

    /** Removes the entry; completes with whether one existed. */
    CompletableFuture<Boolean> delete(String clientId);

    /** Completes normally when the store answers (readiness). */
    CompletableFuture<Void> ping();

    /** Number of stored registrations (admin, metrics); may be approximate. */
    CompletableFuture<Long> count();

    @Override
    void close();
}
