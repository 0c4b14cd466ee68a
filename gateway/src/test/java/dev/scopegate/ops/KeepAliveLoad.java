package dev.scopegate.ops;

import dev.scopegate.proxy.RawConnection;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded load through the gateway on a few keep-alive connections, one thread each: every
 * connection sends GET requests one after the other on the same socket ({@link RawConnection},
 * so that a connection the gateway closes or resets is seen as such, never retried behind the
 * test's back). A connection is reopened only after the gateway answered {@code Connection:
 * close} or the exchange failed. Every exchange is recorded with its start and end time.
 *
 * <p>Stops at {@code maxRequests} sent in all, after {@code maxTime}, or on {@link #close()},
 * whichever comes first. Thread-safe.
 */
public final class KeepAliveLoad implements AutoCloseable {

    /** The request target (path and query) connection {@code connection} sends as its {@code n}-th request. */
    @FunctionalInterface
    public interface Targets {
        String target(int connection, int n);
    }

    /**
     * One exchange: {@code status} is -1 when no complete response came back, {@code error} then
     * says why (reset, end of input, timeout …). Times are {@link System#nanoTime()}.
     */
    public record Exchange(int connection, String target, long startNanos, long endNanos, int status, String error) {

        @Override
        public String toString() {
            return "conn " + connection + " GET " + target + " -> " + (status < 0 ? error : String.valueOf(status));
        }
    }

    private final int port;
    private final Targets targets;
    private final int maxRequests;
    private final long deadline;
    private final long pauseMillis;
    private final AtomicInteger sent = new AtomicInteger();
    private final ConcurrentLinkedQueue<Exchange> exchanges = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stop;

    /**
     * Starts the load at once.
     *
     * @param port        the gateway's proxy port (loopback)
     * @param connections how many connections (and threads)
     * @param pauseMillis pause between two requests of one connection (keeps two shared cores usable)
     */
    public KeepAliveLoad(int port, int connections, Targets targets, int maxRequests, java.time.Duration maxTime,
                         long pauseMillis) {
        this.port = port;
        this.targets = targets;
        this.maxRequests = maxRequests;
        this.deadline = System.nanoTime() + maxTime.toNanos();
        this.pauseMillis = pauseMillis;
        for (int i = 0; i < connections; i++) {
            int connection = i;
            Thread t = new Thread(() -> run(connection), "keep-alive-load-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    private boolean more() {
        return !stop && System.nanoTime() < deadline;
    }

    private void run(int connection) {
        RawConnection conn = null;
        try {
            for (int n = 0; more(); n++) {
                if (sent.incrementAndGet() > maxRequests) {
                    sent.decrementAndGet();
                    return;
                }
                String target = targets.target(connection, n);
                long start = System.nanoTime();
                try {
                    if (conn == null) {
                        conn = RawConnection.open(port);
                    }
                    RawConnection.Response r = conn.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read();
                    exchanges.add(new Exchange(connection, target, start, System.nanoTime(), r.status(), null));
                    String c = r.header("connection");
                    if (c != null && c.equalsIgnoreCase("close")) {
                        conn = closeQuietly(conn);
                    }
                } catch (IOException e) {
                    exchanges.add(new Exchange(connection, target, start, System.nanoTime(), -1, e.toString()));
                    conn = closeQuietly(conn);
                }
                if (pauseMillis > 0) {
                    Thread.sleep(pauseMillis);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeQuietly(conn);
        }
    }

    private static RawConnection closeQuietly(RawConnection conn) {
        if (conn != null) {
            try {
                conn.close();
            } catch (IOException ignored) {
                // closing: nothing left to do with it
            }
        }
        return null;
    }

    /** Requests sent so far (each one ends up in {@link #exchanges()}). */
    public int sent() {
        return sent.get();
    }

    /** Exchanges completed (answered or failed) so far. */
    public int completed() {
        return exchanges.size();
    }

    /** Every exchange completed so far, in no particular order across connections. */
    public List<Exchange> exchanges() {
        return List.copyOf(exchanges);
    }

    /** Stops the load and waits for every connection to finish its exchange in flight and close. */
    @Override
    public void close() throws InterruptedException {
        stop = true;
        for (Thread t : threads) {
            t.join(15_000);
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not stop");
            }
        }
    }
}
