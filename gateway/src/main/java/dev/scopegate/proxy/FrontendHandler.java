package dev.scopegate.proxy;

import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.proxy.route.RequestRouter;
import dev.scopegate.proxy.route.RouteKind;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.proxy.upstream.UpstreamClient;
import dev.scopegate.proxy.upstream.UpstreamConnection;
import dev.scopegate.proxy.upstream.UpstreamPool;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The client side of the proxy: one instance per client connection, last in its pipeline
 * (after the HTTP codec). It answers {@code Expect: 100-continue} itself, in turn.
 *
 * <p>Exchanges run one at a time: {@code AUTO_READ} is off and the next message is asked for
 * only when the current step is done, so pipelined requests are answered in order and a body
 * is read only as fast as the upstream accepts it (and a response only as fast as the client
 * accepts it). The upstream connection is borrowed from the pool of this connection's event
 * loop, so both channels share one thread and no state here is touched concurrently.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter implements Exchange.Client {

    /**
     * Everything a connection needs, shared by all connections. {@code nanoClock} is the time the
     * connection's timeouts are measured in ({@link System#nanoTime} unless a test says otherwise).
     */
    record Shared(Supplier<ProxySettings> settings, UpstreamClient upstream, RequestRouter router,
                  ProxyMetrics metrics, AccessLog accessLog, Lifecycle lifecycle, LongSupplier nanoClock) {
        Shared {
            Objects.requireNonNull(settings, "settings");
            Objects.requireNonNull(upstream, "upstream");
            Objects.requireNonNull(router, "router");
            Objects.requireNonNull(metrics, "metrics");
            Objects.requireNonNull(accessLog, "accessLog");
            Objects.requireNonNull(lifecycle, "lifecycle");
            Objects.requireNonNull(nanoClock, "nanoClock");
        }

        Shared(Supplier<ProxySettings> settings, UpstreamClient upstream, RequestRouter router,
               ProxyMetrics metrics, AccessLog accessLog, Lifecycle lifecycle) {
            this(settings, upstream, router, metrics, accessLog, lifecycle, System::nanoTime);
        }
    }

    private final Shared shared;
    private ChannelHandlerContext ctx;
    private InetAddress clientAddress;
    private String clientIp;
    private Exchange current;
    /** Pool cache: most connections talk to a single origin. */
    private Origin cachedOrigin;
    private UpstreamPool cachedPool;
    /**
     * Decoded messages not yet handled. The decoder may produce several messages from one socket
     * read (pipelined requests, a head and its body); they wait here until the exchange asks for
     * the next one, so exactly one message is handled per {@link #readNext()}, in order.
     */
    private final ArrayDeque<Object> inbound = new ArrayDeque<>(4);
    private boolean wantMessage;
    private boolean draining;
    /** Between a socket read's first decoded message and its channelReadComplete. */
    private boolean inReadBatch;
    /**
     * The connection's one timer (idle keep-alive, the response deadline and the read deadline),
     * never more than {@link #timerPeriodNanos} ahead, so a deadline set later is still checked in
     * time; it is re-armed where it fires, never per request or per read.
     */
    private ScheduledFuture<?> timer;
    private final long idleNanos;
    /** When the connection last became idle (opened, or an exchange ended). */
    private long idleSince;
    private final LongSupplier clock;

    FrontendHandler(Shared shared, long idleTimeoutMillis) {
        this.shared = shared;
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
        this.clock = shared.nanoClock();
    }

    /**
     * The shortest of the idle, response and read timeouts (the read timeout of any target, so
     * that a read deadline set on any exchange is checked in time); Long.MAX_VALUE when there is
     * none: no timer.
     */
    private long timerPeriodNanos() {
        ProxySettings settings = shared.settings().get();
        long period = idleNanos > 0 ? idleNanos : Long.MAX_VALUE;
        period = shorter(period, settings.responseTimeoutMillis());
        return shorter(period, settings.shortestReadTimeoutMillis());
    }

    private static long shorter(long nanos, long millis) {
        return millis > 0 ? Math.min(nanos, TimeUnit.MILLISECONDS.toNanos(millis)) : nanos;
    }

    private void armTimer(long delayNanos) {
        if (delayNanos != Long.MAX_VALUE) {
            timer = ctx.executor().schedule(this::onTimer, Math.max(delayNanos, 1_000_000L), TimeUnit.NANOSECONDS);
        }
    }

    /** Arms the timer if none runs (a deadline set after a reload turned its timeout on). */
    @Override
    public void ensureTimer() {
        if (timer == null && ctx.channel().isActive()) {
            armTimer(timerPeriodNanos());
        }
    }

    private void onTimer() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = clock.getAsLong();
        long next = timerPeriodNanos();
        Exchange x = current;
        if (x == null) {
            if (idleNanos <= 0) {
                armTimer(next);
                return;
            }
            long left = idleSince + idleNanos - now;
            if (left <= 0) {
                ctx.close(); // idle keep-alive connection, or a request head that never completed
                return;
            }
            next = Math.min(next, left);
        } else if (x.deadline() != 0) {
            long left = x.deadline() - now;
            if (left <= 0) {
                x.on(Exchange.Event.TIMEOUT, null);
                if (current == null && idleNanos > 0) {
                    next = Math.min(next, idleNanos);
                }
            } else {
                next = Math.min(next, left);
            }
        }
        armTimer(next);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress isa && isa.getAddress() != null) {
            clientAddress = isa.getAddress();
            clientIp = clientAddress.getHostAddress();
        } else {
            clientIp = "unknown";
        }
        shared.metrics().connectionOpened();
        idleSince = clock.getAsLong();
        armTimer(timerPeriodNanos());
        readNext();
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        shared.metrics().connectionClosed();
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        Object queued;
        while ((queued = inbound.poll()) != null) {
            ReferenceCountUtil.release(queued);
        }
        if (current != null) {
            current.on(Exchange.Event.CLOSE, null);
        }
        super.channelInactive(ctx);
    }

    /** Asks for exactly one more message from the client. */
    @Override
    public void readNext() {
        wantMessage = true;
        drain();
        if (wantMessage && inbound.isEmpty()) {
            ctx.read(); // idempotent while a read is pending
        }
    }

    private void drain() {
        if (draining) {
            return; // the loop below picks the message up: no recursion per pipelined request
        }
        draining = true;
        try {
            while (wantMessage && !inbound.isEmpty()) {
                wantMessage = false;
                handle(inbound.poll()); // may call readNext() again
            }
        } finally {
            draining = false;
        }
        if (!inReadBatch) {
            flushUpstream();
        }
    }

    /**
     * Request bytes go upstream with one flush per client read (or per drain outside a read):
     * a head and the body decoded from the same read leave in one write, not one per part.
     */
    private void flushUpstream() {
        Exchange x = current;
        if (x != null) {
            x.flushUpstream();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        inReadBatch = true;
        inbound.add(msg);
        drain();
    }

    private void handle(Object msg) {
        if (msg instanceof HttpRequest request) {
            if (current != null) { // cannot happen: one message is read at a time (the exchange refuses it)
                current.on(Exchange.Event.REQUEST_HEAD, msg);
                return;
            }
            onRequest(request);
            if (msg instanceof HttpContent content && current != null) {
                current.on(Exchange.Event.BODY_CHUNK, content);
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            if (current != null) {
                current.on(Exchange.Event.BODY_CHUNK, content);
            } else {
                content.release(); // rest of a refused request
            }
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        inReadBatch = false;
        flushUpstream();
        if (wantMessage && inbound.isEmpty() && ctx.channel().isActive()) {
            ctx.read(); // a read that produced no whole message: keep reading
        }
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (current != null && ctx.channel().isWritable()) {
            current.on(Exchange.Event.CLIENT_WRITABLE, null);
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // I/O errors of the client connection (reset, TLS failure): nothing to answer.
        ErrorLog.clientError(ctx, cause);
        ctx.close();
    }

    private void onRequest(HttpRequest request) {
        RequestGate.Refusal refusal = RequestGate.check(request);
        if (refusal != null) {
            // Refused before any exchange exists; the connection closes (its framing is suspect).
            shared.metrics().refused(refusal.reason());
            shared.accessLog().refused(clientIp, refusal.status().code(), refusal.cause());
            ErrorResponder.send(ctx, refusal.status(), refusal.message(), true, refusal.cause());
            return;
        }
        if (RequestGate.takeExpectContinue(request)) {
            ctx.writeAndFlush(Exchange.continueResponse());
        }
        ProxySettings settings = shared.settings().get();
        String path = RequestGate.pathOf(request.uri());
        ProxySettings.Target target = settings.select(path);
        RouteKind kind = target.extra() ? RouteKind.EXTRA_ROUTE : shared.router().classify(request.method(), path);
        boolean keepAlive = HttpUtil.isKeepAlive(request) && !shared.lifecycle().draining();
        current = new Exchange(shared, this, request, path, kind, target, settings, keepAlive);
        shared.metrics().exchangeStarted();
        shared.lifecycle().exchangeStarted();
        current.on(Exchange.Event.REQUEST_HEAD, request);
    }

    // ---- Exchange.Client ----

    @Override
    public ChannelHandlerContext ctx() {
        return ctx;
    }

    @Override
    public UpstreamConnection pollIdle(Origin origin) {
        return poolFor(origin).pollIdle();
    }

    @Override
    public Future<UpstreamConnection> acquire(Origin origin) {
        return poolFor(origin).acquire();
    }

    private UpstreamPool poolFor(Origin origin) {
        if (!origin.equals(cachedOrigin)) {
            cachedPool = shared.upstream().pool(ctx.channel().eventLoop(), origin);
            cachedOrigin = origin;
        }
        return cachedPool;
    }

    @Override
    public void ended(long nanos) {
        current = null;
        idleSince = nanos;
    }

    @Override
    public InetAddress clientAddress() {
        return clientAddress;
    }

    @Override
    public String clientIp() {
        return clientIp;
    }
}
