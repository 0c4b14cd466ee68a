package dev.scopegate.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.ConnectException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections from one event loop to one origin. Event-loop confined: every method runs
 * on {@code loop}, which is also the loop of every connection here and of the client connections
 * that borrow them, so nothing is locked and an idle connection is handed out without a promise.
 *
 * <p>Idle connections are kept most recently used first (the busiest few stay warm, the rest age
 * out); one scheduled task per pool closes those idle longer than the idle timeout. At most
 * {@code maxConnections} are open or opening; an acquire beyond that waits, in order, up to the
 * acquire timeout for a connection to be released or closed.
 */
public final class UpstreamPool {

    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final int maxConnections;
    private final int maxWaiters;
    private final long acquireTimeoutMillis;
    private final long idleTimeoutNanos;

    private final ArrayDeque<UpstreamConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** Connections open or being opened. */
    private int open;
    private ScheduledFuture<?> evictTask;
    private boolean closed;

    private static final class Waiter {
        final Promise<UpstreamConnection> promise;
        ScheduledFuture<?> timeout;

        Waiter(Promise<UpstreamConnection> promise) {
            this.promise = promise;
        }
    }

    UpstreamPool(EventLoop loop, Bootstrap bootstrap, int maxConnections, int maxWaiters, long acquireTimeoutMillis,
                 long idleTimeoutMillis) {
        this.loop = loop;
        this.bootstrap = bootstrap;
        this.maxConnections = maxConnections;
        this.maxWaiters = maxWaiters;
        this.acquireTimeoutMillis = acquireTimeoutMillis;
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
    }

    /** The most recently released open connection, or null when none is idle. No allocation. */
    public UpstreamConnection pollIdle() {
        UpstreamConnection c;
        while ((c = idle.pollFirst()) != null) {
            if (c.channel().isActive()) {
                return c;
            }
            // closing: its close listener does the bookkeeping
        }
        return null;
    }

    /**
     * An idle connection, a new one, or the next one released; the future fails with an
     * {@link UpstreamFailure}. Completes on the loop.
     */
    public Future<UpstreamConnection> acquire() {
        Promise<UpstreamConnection> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, "gateway is shutting down", null));
        }
        UpstreamConnection c = pollIdle();
        if (c != null) {
            return promise.setSuccess(c);
        }
        if (open < maxConnections) {
            connect(promise);
            return promise;
        }
        if (waiters.size() >= maxWaiters) {
            return promise.setFailure(exhausted());
        }
        Waiter w = new Waiter(promise);
        w.timeout = loop.schedule(() -> {
            waiters.remove(w);
            w.promise.tryFailure(exhausted());
        }, acquireTimeoutMillis, TimeUnit.MILLISECONDS);
        waiters.add(w);
        return promise;
    }

    private static UpstreamFailure exhausted() {
        return new UpstreamFailure(UpstreamFailure.Kind.POOL_EXHAUSTED, "no upstream connection available in time", null);
    }

    private void connect(Promise<UpstreamConnection> promise) {
        open++;
        ChannelFuture f = bootstrap.connect();
        f.channel().closeFuture().addListener(x -> onClosed(UpstreamConnection.of(f.channel())));
        f.addListener(cf -> {
            if (!cf.isSuccess()) {
                promise.tryFailure(classify(cf.cause()));
                return; // the channel is closed: onClosed frees the slot
            }
            UpstreamConnection c = UpstreamConnection.of(f.channel());
            if (!promise.trySuccess(c)) { // the acquirer gave up meanwhile
                release(c, true);
            }
        });
    }

    private static UpstreamFailure classify(Throwable cause) {
        if (cause instanceof UpstreamFailure u) {
            return u;
        }
        if (cause instanceof io.netty.channel.ConnectTimeoutException) {
            return new UpstreamFailure(UpstreamFailure.Kind.CONNECT_TIMEOUT, "upstream connect timed out", cause);
        }
        if (cause instanceof ConnectException) {
            return new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, "upstream refused the connection", cause);
        }
        return new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, "upstream connect failed: " + cause, cause);
    }

    /** Takes a connection back: to the first waiter, else to the idle list; closes it if not reusable. */
    void release(UpstreamConnection c, boolean reusable) {
        if (!reusable || closed || !c.channel().isActive()) {
            c.channel().close(); // onClosed frees the slot
            return;
        }
        Waiter w;
        while ((w = waiters.pollFirst()) != null) {
            w.timeout.cancel(false);
            if (w.promise.trySuccess(c)) {
                return;
            }
        }
        c.idleSince(System.nanoTime());
        idle.addFirst(c);
        if (evictTask == null && idleTimeoutNanos > 0) {
            evictTask = loop.schedule(this::evictIdle, idleTimeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Closes what has been idle too long (the oldest are at the tail), then waits for the next. */
    private void evictIdle() {
        evictTask = null;
        long now = System.nanoTime();
        UpstreamConnection oldest;
        while ((oldest = idle.peekLast()) != null && now - oldest.idleSince() >= idleTimeoutNanos) {
            idle.pollLast();
            oldest.channel().close();
        }
        if (oldest != null && !closed) {
            long next = Math.max(1, oldest.idleSince() + idleTimeoutNanos - now);
            evictTask = loop.schedule(this::evictIdle, next, TimeUnit.NANOSECONDS);
        }
    }

    private void onClosed(UpstreamConnection c) {
        open--;
        if (c != null) {
            idle.remove(c);
        }
        if (!closed) {
            Waiter w = waiters.pollFirst();
            if (w != null) { // a slot is free: open one for the longest waiter
                w.timeout.cancel(false);
                connect(w.promise);
            }
        }
    }

    /** Closes idle connections and fails waiters; connections in use close when released. */
    void close() {
        if (!loop.inEventLoop()) {
            loop.execute(this::close);
            return;
        }
        closed = true;
        if (evictTask != null) {
            evictTask.cancel(false);
            evictTask = null;
        }
        Waiter w;
        while ((w = waiters.pollFirst()) != null) {
            w.timeout.cancel(false);
            w.promise.tryFailure(new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, "gateway is shutting down", null));
        }
        UpstreamConnection c;
        while ((c = idle.pollFirst()) != null) {
            c.channel().close();
        }
    }

    /** Open or opening connections (for tests and metrics). */
    int openConnections() {
        return open;
    }

    int idleConnections() {
        return idle.size();
    }
}
