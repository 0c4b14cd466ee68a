package dev.scopegate.ops;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A steady loop of authorization requests without scope through the gateway, on its own thread,
 * bounded in count and time; records every request that did not get the IdP's 302 (which it
 * only gives when scopegate added a scope). Thread-safe.
 */
public final class RequestLoop implements AutoCloseable {

    private static final int MAX_REQUESTS = 3000;
    private static final long MAX_NANOS = 25_000_000_000L;

    private final Harness h;
    private final Thread thread;
    private final AtomicInteger sent = new AtomicInteger();
    public final List<String> failures = new CopyOnWriteArrayList<>();
    private volatile boolean stop;

    public RequestLoop(Harness h) {
        this.h = h;
        this.thread = new Thread(this::run, "request-loop");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        long deadline = System.nanoTime() + MAX_NANOS;
        while (!stop && sent.get() < MAX_REQUESTS && System.nanoTime() < deadline) {
            int n = sent.incrementAndGet();
            try {
                int status = h.authorize("loop-client", "loop-" + n, null).statusCode();
                if (status != 302) {
                    failures.add("request " + n + ": " + status);
                }
                Thread.sleep(5);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                failures.add("request " + n + ": " + e);
            }
        }
    }

    public int sent() {
        return sent.get();
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(15_000);
    }
}
