package dev.scopegate.store;

import dev.scopegate.model.Registration;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A decorator that counts the calls reaching the real store, and can hold reads or writes back
 * until the test opens a gate, or fail reads.
 */
final class CountingStore implements RegistrationStore {

    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger deletes = new AtomicInteger();
    final AtomicReference<CompletableFuture<Void>> readGate = new AtomicReference<>(CompletableFuture.completedFuture(null));
    final AtomicReference<CompletableFuture<Void>> writeGate = new AtomicReference<>(CompletableFuture.completedFuture(null));
    volatile boolean failReads;

    private final RegistrationStore delegate;

    CountingStore(RegistrationStore delegate) {
        this.delegate = delegate;
    }

    CompletableFuture<Void> holdReads() {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        readGate.set(gate);
        return gate;
    }

    CompletableFuture<Void> holdWrites() {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        writeGate.set(gate);
        return gate;
    }

    @Override
    public CompletableFuture<Optional<Registration>> get(String clientId) {
        reads.incrementAndGet();
        if (failReads) {
            return CompletableFuture.failedFuture(new StoreException("injected read failure"));
        }
        return readGate.get().thenCompose(ignored -> delegate.get(clientId));
    }

    @Override
    public CompletableFuture<Void> put(Registration registration) {
        writes.incrementAndGet();
        return writeGate.get().thenCompose(ignored -> delegate.put(registration));
    }

    @Override
    public CompletableFuture<Boolean> delete(String clientId) {
        deletes.incrementAndGet();
        return writeGate.get().thenCompose(ignored -> delegate.delete(clientId));
    }

    @Override
    public CompletableFuture<Void> ping() {
        return delegate.ping();
    }

    @Override
    public CompletableFuture<Long> count() {
        return delegate.count();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
