package dev.scopegate.proxy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy's lifecycle as readiness sees it: listening (the listener accepts) and draining
 * (graceful shutdown began). Once {@link #startDraining()} is called, responses carry
 * {@code Connection: close} and {@link #awaitIdle} waits for in-flight exchanges. Thread-safe.
 */
public final class Lifecycle {

    private volatile boolean draining;
    private volatile boolean listening;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object idle = new Object();

    public boolean draining() {
        return draining;
    }

    public void startDraining() {
        draining = true;
    }

    /** True while the proxy listener accepts connections (from its bind to the end of the drain). */
    public boolean listening() {
        return listening;
    }

    void listening(boolean accepting) {
        listening = accepting;
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
