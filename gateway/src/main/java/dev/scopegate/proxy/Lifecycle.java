package dev.scopegate.proxy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Draining state for graceful shutdown: once {@link #startDraining()} is called, responses carry
 * {@code Connection: close} and {@link #awaitIdle} waits for in-flight exchanges. Thread-safe.
 */
public final class Lifecycle {

    private volatile boolean draining;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object idle = new Object();

    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }

    void exchangeStarted() {
        inFlight.incrementAndGet();
    }

    void exchangeEnded() {
        if (inFlight.decrementAndGet() == 0 && draining) {
            synchronized (idle) {
                idle.notifyAll();
            }
        }
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** Blocks (never call on an event loop) until no exchange is in flight or the time is up. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (idle) {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(idle, left);
            }
        }
        return true;
    }
}
