package dev.scopegate.proxy;

import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.proxy.codec.RequestTarget;
import dev.scopegate.proxy.route.BodyRewriter;
import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.RequestRouter;
import dev.scopegate.proxy.route.ResponseTap;
import dev.scopegate.proxy.route.RouteKind;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.proxy.upstream.UpstreamClient;
import dev.scopegate.proxy.upstream.UpstreamConnection;
import dev.scopegate.proxy.upstream.UpstreamFailure;
import dev.scopegate.proxy.upstream.UpstreamListener;
import dev.scopegate.proxy.upstream.UpstreamPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
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
final class FrontendHandler extends ChannelInboundHandlerAdapter {

    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");

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

    private static final int EXTRA_ROUTE = RouteKind.EXTRA_ROUTE.ordinal();
    /** A client held back while the IdP's metadata is unavailable may try again this soon. */
    private static final String RETRY_AFTER_SECONDS = "5";

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
    private void ensureTimer() {
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
                x.deadlinePassed();
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
            current.clientGone();
        }
        super.channelInactive(ctx);
    }

    /** Asks for exactly one more message from the client. */
    private void readNext() {
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
            if (current != null) { // cannot happen: one message is read at a time
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            onRequest(request);
            if (msg instanceof HttpContent content && current != null) {
                current.onRequestContent(content);
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (msg instanceof HttpContent content) {
            if (current != null) {
                current.onRequestContent(content);
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
            current.onClientWritable();
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
        if (request.decoderResult().isFailure()) {
            refuseMalformed(request.decoderResult().cause());
            return;
        }
        HttpHeaders headers = request.headers();
        HttpVersion version = request.protocolVersion();
        if (version.majorVersion() != 1) { // e.g. "HTTP/2.0" in an HTTP/1 request line: not forwarded as 1.1
            refuse(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP Version Not Supported", "version " + version, "version");
            return;
        }
        int hosts = count(headers, HttpHeaderNames.HOST);
        if (hosts > 1 || (hosts == 0 && version.minorVersion() >= 1 && version.majorVersion() == 1)) {
            refuse(HttpResponseStatus.BAD_REQUEST, "Bad Request: exactly one Host header is required", "host header count " + hosts, "host");
            return;
        }
        if (HttpMethod.CONNECT.equals(request.method())) {
            refuse(HttpResponseStatus.METHOD_NOT_ALLOWED, "Method Not Allowed", "CONNECT", "method");
            return;
        }
        String uri = request.uri();
        if (!RequestTarget.isValid(uri)) { // as sent, before toOriginForm copies an authority into Host
            refuse(HttpResponseStatus.BAD_REQUEST, "Bad Request: invalid request target", "request target", "target");
            return;
        }
        if (!uri.startsWith("/")) {
            String originForm = toOriginForm(request);
            if (originForm == null) {
                refuse(HttpResponseStatus.BAD_REQUEST, "Bad Request: unsupported request target", "request target", "target");
                return;
            }
        }
        String expect = headers.get(HttpHeaderNames.EXPECT);
        if (expect != null) {
            if (version.minorVersion() >= 1 && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim())) {
                refuse(HttpResponseStatus.EXPECTATION_FAILED, "Expectation Failed", "unsupported expectation", "expectation");
                return;
            }
            headers.remove(HttpHeaderNames.EXPECT); // this hop's business (RFC 9110 §10.1.1)
            if (version.minorVersion() >= 1) {
                // answered here, when this request's turn comes, never ahead of an earlier response
                ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
                        Unpooled.EMPTY_BUFFER));
            }
        }
        ProxySettings settings = shared.settings().get();
        String path = pathOf(request.uri());
        ProxySettings.Target target = settings.select(path);
        RouteKind kind = target.extra() ? RouteKind.EXTRA_ROUTE : shared.router().classify(request.method(), path);
        boolean keepAlive = HttpUtil.isKeepAlive(request) && !shared.lifecycle().draining();
        current = new Exchange(request, path, kind, target, settings, keepAlive);
        shared.metrics().exchangeStarted();
        shared.lifecycle().exchangeStarted();
        if (kind == RouteKind.PASS_THROUGH) {
            // Before the IdP's first metadata, "pass-through" may be an endpoint not known yet.
            CompletionStage<Boolean> pending = shared.router().endpointsPending();
            if (pending != null) {
                current.awaitEndpoints(pending);
                return;
            }
        }
        current.decide();
    }

    private static int count(HttpHeaders headers, CharSequence name) {
        int n = 0;
        for (Iterator<? extends CharSequence> it = headers.valueCharSequenceIterator(name); it.hasNext(); it.next()) {
            n++;
        }
        return n;
    }

    /** absolute-form (RFC 9112 §3.2.2): the target's authority replaces Host. */
    private static String toOriginForm(HttpRequest request) {
        String uri = request.uri();
        int scheme = uri.indexOf("://");
        if (!(scheme == 4 && uri.regionMatches(true, 0, "http", 0, 4))
                && !(scheme == 5 && uri.regionMatches(true, 0, "https", 0, 5))) {
            return null;
        }
        int authorityStart = scheme + 3;
        int pathStart = authorityStart;
        while (pathStart < uri.length() && uri.charAt(pathStart) != '/' && uri.charAt(pathStart) != '?') {
            pathStart++;
        }
        String authority = uri.substring(authorityStart, pathStart);
        if (authority.isEmpty() || authority.indexOf('@') >= 0) {
            return null;
        }
        String rest = pathStart == uri.length() ? "/" : uri.charAt(pathStart) == '?' ? "/" + uri.substring(pathStart) : uri.substring(pathStart);
        request.setUri(rest);
        request.headers().set(HttpHeaderNames.HOST, authority);
        return rest;
    }

    static String pathOf(String uri) {
        int q = uri.indexOf('?');
        return q < 0 ? uri : uri.substring(0, q);
    }

    private void refuseMalformed(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            refuse(HttpResponseStatus.REQUEST_URI_TOO_LONG, "URI Too Long", cause.getMessage(), "uri-too-long");
        } else if (cause instanceof TooLongHttpHeaderException) {
            refuse(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request Header Fields Too Large", cause.getMessage(), "headers-too-large");
        } else if (cause instanceof TooLongFrameException) {
            refuse(HttpResponseStatus.BAD_REQUEST, "Bad Request", cause.getMessage(), "too-long");
        } else {
            refuse(HttpResponseStatus.BAD_REQUEST, "Bad Request: malformed HTTP message", String.valueOf(cause.getMessage()), "malformed");
        }
    }

    /** Refuses a request before any exchange exists; the connection closes (its framing is suspect). */
    private void refuse(HttpResponseStatus status, String message, String cause, String reason) {
        shared.metrics().refused(reason);
        shared.accessLog().refused(clientIp, status.code(), cause);
        ErrorResponder.send(ctx, status, message, true, cause);
    }

    private UpstreamPool poolFor(Origin origin) {
        if (!origin.equals(cachedOrigin)) {
            cachedPool = shared.upstream().pool(ctx.channel().eventLoop(), origin);
            cachedOrigin = origin;
        }
        return cachedPool;
    }

    private enum State {
        /** Waiting for a deferred plan. */
        PLANNING,
        /** Reading the body into memory (form routes). */
        BUFFERING,
        /** Waiting for an upstream connection. */
        CONNECTING,
        /** Request sent or being streamed; response not yet started. */
        FORWARDING,
        /** Response head seen, body being captured before relay. */
        CAPTURING,
        /** Response being relayed. */
        RELAYING,
        /** A local response was written; the rest of the request body is discarded. */
        ANSWERED,
        DONE
    }

    /** One request/response exchange. Event-loop confined. */
    private final class Exchange implements UpstreamListener {
        private final HttpRequest request;
        private final String path;
        /** Final once decided; a request held for the endpoints is classified again when they arrive. */
        private RouteKind kind;
        private final ProxySettings.Target target;
        private final ProxySettings settings;
        private final boolean clientKeepAlive;
        private final boolean requestChunked;
        private final boolean requestHasBody;
        /** The request went upstream as one full message (it has no body): its empty end is not written. */
        private boolean headWasWhole;
        /** Kept apart: {@link #prepareHead} rewrites the request's version to HTTP/1.1 in place. */
        private final boolean http10Client;
        private final long startNanos = clock.getAsLong();
        private final int methodIndex;

        private State state = State.PLANNING;
        private ResponseTap tap;
        private BodyRewriter rewriter;
        private int maxBodyBytes;
        private CompositeByteBuf bodyBuffer;
        /** A body the rewriter replaced (or the buffered original) to send after the head. */
        private ByteBuf fullBody;
        private UpstreamConnection upstream;
        private boolean requestComplete;
        private boolean requestSent;
        private boolean waitingUpstreamWritable;
        /** Request bytes written upstream but not flushed yet (see {@link FrontendHandler#flushUpstream}). */
        private boolean upstreamFlushPending;
        private boolean retried;
        private boolean headPrepared;
        /** nanoTime by which the response head must arrive; 0 when none is awaited. */
        long responseDeadline;
        /** The target's read timeout, taken when the response head arrives; 0: none. */
        private long readTimeoutNanos;
        /**
         * While the read deadline runs (response head seen, more of it awaited): the nanoTime of the
         * last upstream read, or of when waiting began. 0 while no deadline runs: before the head,
         * after the response, and while the client is not accepting more (backpressure: the
         * upstream is not being read then, so its silence is not its fault).
         */
        private long readSince;
        private long sentNanos;
        private HttpResponse responseHead;
        /** The head just received is a whole response: the next onResponseContent relays it as one message. */
        private boolean relayWhole;
        private int capLimit;
        private CompositeByteBuf captured;
        private boolean responseKeepAlive;
        private boolean closeClientAfter;
        /** The client's response body ends where its connection closes (no length, not chunked). */
        private boolean closeDelimited;
        private int status;
        private long bytesIn;
        private long bytesOut;
        private long upstreamNanos = -1;

        Exchange(HttpRequest request, String path, RouteKind kind, ProxySettings.Target target,
                 ProxySettings settings, boolean clientKeepAlive) {
            this.request = request;
            this.path = path;
            this.kind = kind;
            this.target = target;
            this.settings = settings;
            this.clientKeepAlive = clientKeepAlive;
            this.requestChunked = HttpUtil.isTransferEncodingChunked(request);
            this.requestHasBody = requestChunked || HttpUtil.getContentLength(request, 0L) > 0;
            this.http10Client = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
            this.methodIndex = ProxyMetrics.methodIndex(request.method().name());
        }

        /** Asks the router for this request's plan and carries it out. */
        void decide() {
            Plan plan;
            try {
                plan = target.extra() ? Plan.FORWARD : shared.router().plan(request, path, kind);
            } catch (RuntimeException e) {
                ErrorLog.bug("router failed", e);
                respondError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", "router: " + e);
                return;
            }
            apply(plan);
        }

        /**
         * Holds the request (its body stays unread) until the IdP's endpoints are known, then
         * classifies it again and decides; answers 503 when they cannot be had now. Never
         * forwards a request classified against unknown endpoints.
         */
        void awaitEndpoints(CompletionStage<Boolean> pending) {
            state = State.PLANNING;
            pending.whenComplete((known, error) -> ctx.executor().execute(() -> {
                if (state != State.PLANNING) {
                    return; // the client went away meanwhile
                }
                if (error == null && Boolean.TRUE.equals(known) && shared.router().endpointsPending() == null) {
                    shared.metrics().metadataWait(true);
                    kind = shared.router().classify(request.method(), path);
                    decide();
                    return;
                }
                shared.metrics().metadataWait(false);
                ErrorLog.exchangeError(ctx, 503, request.method().name(), path,
                        "IdP metadata unavailable: endpoints unknown");
                FullHttpResponse r = ErrorResponder.response(HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "Service Unavailable: authorization server metadata not available yet");
                r.headers().set(HttpHeaderNames.RETRY_AFTER, RETRY_AFTER_SECONDS);
                respondLocally(r);
            }));
        }

        void apply(Plan plan) {
            if (state == State.DONE) {
                return;
            }
            if (plan instanceof Plan.Forward f) {
                tap = f.tap();
                connect();
            } else if (plan instanceof Plan.BufferBody b) {
                tap = b.tap();
                rewriter = b.rewriter();
                maxBodyBytes = b.maxBytes();
                state = State.BUFFERING;
                bodyBuffer = ctx.alloc().compositeBuffer(64);
                readNext();
            } else if (plan instanceof Plan.Respond r) {
                respondLocally(r.response());
            } else if (plan instanceof Plan.Defer d) {
                state = State.PLANNING;
                d.plan().whenComplete((next, error) -> ctx.executor().execute(() -> {
                    if (state != State.PLANNING) {
                        if (next instanceof Plan.Respond r) {
                            r.response().release();
                        }
                        return;
                    }
                    if (error != null) {
                        ErrorLog.bug("deferred plan failed", error);
                        respondError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", "plan: " + error);
                    } else {
                        apply(next);
                    }
                }));
            }
        }

        // ---- request side ----

        void onRequestContent(HttpContent content) {
            if (content.decoderResult().isFailure()) {
                content.release();
                requestFailed("malformed request body: " + content.decoderResult().cause().getMessage());
                return;
            }
            bytesIn += content.content().readableBytes();
            boolean last = content instanceof LastHttpContent;
            switch (state) {
                case BUFFERING -> {
                    ByteBuf part = content.content();
                    if (bodyBuffer.readableBytes() + part.readableBytes() > maxBodyBytes) {
                        content.release();
                        shared.metrics().bodyOverCap("form");
                        closeClientAfter = true;
                        respondError(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "Payload Too Large",
                                "form body over " + maxBodyBytes + " bytes");
                        return;
                    }
                    bodyBuffer.addComponent(true, part.retain());
                    content.release();
                    if (last) {
                        requestComplete = true;
                        runRewriter();
                    } else {
                        readNext();
                    }
                }
                case FORWARDING, RELAYING, CAPTURING -> {
                    if (upstream == null) { // the response is over: nobody wants the rest
                        content.release();
                        if (last) {
                            requestComplete = true;
                        } else {
                            closeClientAfter = true;
                        }
                        return;
                    }
                    if (last) {
                        requestComplete = true;
                        if (content instanceof LastHttpContent l && !l.trailingHeaders().isEmpty() && !requestChunked) {
                            l.trailingHeaders().clear();
                        }
                    }
                    if (headWasWhole) { // the message already went upstream whole: only its end to note
                        content.release();
                        upstreamFlushPending = true;
                        if (last) {
                            requestSent();
                        }
                        return;
                    }
                    upstream.write(content); // a failed write reaches onUpstreamFailure
                    upstreamFlushPending = true;
                    if (last) {
                        requestSent();
                    } else if (upstream.isWritable()) {
                        readNext();
                    } else {
                        waitingUpstreamWritable = true;
                    }
                }
                case ANSWERED -> {
                    // we answered before the body ended: drop the rest
                    content.release();
                    if (last) {
                        requestComplete = true;
                    }
                    finishIfDone();
                }
                default -> content.release();
            }
        }

        private void runRewriter() {
            state = State.PLANNING;
            CompositeByteBuf body = bodyBuffer;
            // From here the callback below owns the body and releases it exactly once: the exchange
            // may end meanwhile (client gone) or inside it (Reply), and must not release it too.
            bodyBuffer = null;
            rewriter.onBody(request, body).whenComplete((result, error) -> ctx.executor().execute(() -> {
                try {
                    if (state != State.PLANNING) {
                        if (result instanceof BodyRewriter.Result.Reply r) {
                            r.response().release();
                        }
                        return;
                    }
                    if (error != null) {
                        ErrorLog.bug("body rewriter failed", error);
                        respondError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", "rewriter: " + error);
                    } else if (result instanceof BodyRewriter.Result.Reply r) {
                        respondLocally(r.response());
                    } else {
                        if (result instanceof BodyRewriter.Result.Replace r) {
                            fullBody = Unpooled.wrappedBuffer(r.body());
                        } else {
                            fullBody = body.retain();
                        }
                        connect();
                    }
                } finally {
                    body.release();
                }
            }));
        }

        private void connect() {
            state = State.CONNECTING;
            UpstreamPool pool = poolFor(target.origin());
            UpstreamConnection idle = pool.pollIdle();
            if (idle != null) {
                onConnected(idle);
                return;
            }
            pool.acquire().addListener((Future<UpstreamConnection> f) -> {
                if (!f.isSuccess()) {
                    if (state == State.CONNECTING) {
                        onUpstreamFailure(f.cause());
                    }
                    return;
                }
                UpstreamConnection conn = f.getNow();
                if (state != State.CONNECTING) { // client went away meanwhile
                    conn.release(true);
                    return;
                }
                onConnected(conn);
            });
        }

        private void onConnected(UpstreamConnection conn) {
            upstream = conn;
            conn.bind(this);
            state = State.FORWARDING;
            prepareHead();
            if (fullBody != null) {
                request.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                request.headers().set(HttpHeaderNames.CONTENT_LENGTH, fullBody.readableBytes());
                conn.write(request);
                conn.writeAndFlush(new DefaultLastHttpContent(fullBody.retainedDuplicate()));
                requestSent();
            } else if (requestComplete) { // a retry of a request without body
                conn.write(request);
                conn.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                requestSent();
            } else if (!requestHasBody) {
                // The head is the whole message: one write through the encoder, not a head and an
                // empty end. Flushed when the client's (empty) end of message is read, right after.
                // Method and target come from the decoder's split of the request line (no SP, CR
                // or LF in them; see ServerHttpCodec): not scanned again here.
                conn.write(new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                        Unpooled.EMPTY_BUFFER, request.headers(), EmptyHttpHeaders.INSTANCE, false));
                headWasWhole = true;
                readNext();
            } else {
                conn.write(request); // flushed together with the body parts of the same read
                upstreamFlushPending = true;
                readNext();
            }
            // AUTO_READ is off upstream: without this a fresh connection never reads its response
            // (a pooled one already has the idle read pending; asking twice is harmless).
            conn.read();
        }

        /** Turns the client's request head into the upstream's, in place. */
        private void prepareHead() {
            if (headPrepared) {
                return; // a retry
            }
            headPrepared = true;
            HttpHeaders h = request.headers();
            HopByHopHeaders.strip(h);
            if (requestChunked) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
            request.setProtocolVersion(HttpVersion.HTTP_1_1);
            String host = h.get(HttpHeaderNames.HOST);
            boolean trusted = clientAddress != null && !settings.trustedProxies().isEmpty() && settings.trusted(clientAddress);
            String xff = trusted ? joined(h, X_FORWARDED_FOR) : null;
            h.set(X_FORWARDED_FOR, xff == null ? clientIp : xff + ", " + clientIp);
            String proto = trusted ? h.get(X_FORWARDED_PROTO) : null;
            h.set(X_FORWARDED_PROTO, proto != null ? proto
                    : settings.publicProto() != null ? settings.publicProto() : settings.tlsListener() ? "https" : "http");
            String fwdHost = trusted ? h.get(X_FORWARDED_HOST) : null;
            h.set(X_FORWARDED_HOST, fwdHost != null ? fwdHost
                    : settings.publicHost() != null ? settings.publicHost() : host != null ? host : target.origin().authority());
            if (target.rewriteHost() || host == null) {
                h.set(HttpHeaderNames.HOST, target.origin().authority());
            }
        }

        private static String joined(HttpHeaders h, CharSequence name) {
            java.util.List<String> all = h.getAll(name);
            return all.isEmpty() ? null : all.size() == 1 ? all.get(0) : String.join(", ", all);
        }

        private void requestSent() {
            requestComplete = true;
            if (requestSent) {
                return;
            }
            requestSent = true;
            sentNanos = clock.getAsLong();
            long timeout = settings.responseTimeoutMillis();
            if (responseHead == null && timeout > 0) {
                responseDeadline = sentNanos + TimeUnit.MILLISECONDS.toNanos(timeout);
                ensureTimer();
            }
        }

        /** nanoTime by which the upstream must send its head or more of its response; 0: none awaited. */
        long deadline() {
            return responseDeadline != 0 ? responseDeadline : readSince != 0 ? readSince + readTimeoutNanos : 0;
        }

        /** Called by the connection timer once {@link #deadline()} passed. */
        void deadlinePassed() {
            if (responseDeadline != 0) {
                responseTimedOut();
            } else {
                readTimedOut();
            }
        }

        private void responseTimedOut() {
            responseDeadline = 0;
            if (responseHead == null && state == State.FORWARDING) {
                onUpstreamFailure(new UpstreamFailure(UpstreamFailure.Kind.RESPONSE_TIMEOUT,
                        "no response within " + settings.responseTimeoutMillis() + " ms", null));
            }
        }

        private void readTimedOut() {
            readSince = 0;
            if ((state == State.RELAYING || state == State.CAPTURING) && upstream != null) {
                onUpstreamFailure(new UpstreamFailure(UpstreamFailure.Kind.READ_TIMEOUT,
                        "no response bytes for " + target.readTimeoutMillis() + " ms (read-timeout)", null));
            }
        }

        void flushUpstream() {
            if (upstreamFlushPending) {
                upstreamFlushPending = false;
                if (upstream != null) {
                    upstream.flush();
                }
            }
        }

        @Override
        public void onUpstreamWritable() {
            if (waitingUpstreamWritable && upstream != null && !requestComplete) {
                waitingUpstreamWritable = false;
                readNext();
            }
        }

        // ---- response side ----

        @Override
        public void onResponseHead(HttpResponse response) {
            cancelTimer();
            upstreamNanos = clock.getAsLong() - (sentNanos != 0 ? sentNanos : startNanos);
            shared.metrics().upstreamLatency(target.extra() ? EXTRA_ROUTE : kind.ordinal(), upstreamNanos);
            // A whole response (head and body from one upstream read) is relayed as one message:
            // onResponseContent follows at once with the same object.
            boolean whole = response instanceof FullHttpResponse;
            HttpResponse head = whole
                    ? new DefaultHttpResponse(response.protocolVersion(), response.status(), response.headers())
                    : response;
            responseHead = head;
            responseKeepAlive = HttpUtil.isKeepAlive(response);
            status = response.status().code();
            readTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(target.readTimeoutMillis());
            int cap = tap == null ? 0 : tap.onHead(head);
            if (cap > 0) {
                state = State.CAPTURING;
                capLimit = cap;
                captured = ctx.alloc().compositeBuffer(64);
                readResponse();
                return;
            }
            state = State.RELAYING;
            if (whole) {
                prepareResponseHead(response);
                relayWhole = true;
                return;
            }
            writeResponseHead(response);
            // Flushed when this upstream read completes (onUpstreamReadComplete), together with any
            // body that came in the same read: one write per read, not one per part. A head that
            // arrives alone (an event stream, a slow body) still reaches the client at once.
            if (ctx.channel().isWritable()) {
                readResponse(); // else onClientWritable asks (and starts the read deadline)
            }
        }

        /**
         * Asks the upstream for more of the response. The read deadline runs from now unless it
         * already runs (then the next upstream read moves it: {@link #onUpstreamReadComplete}).
         */
        private void readResponse() {
            if (readSince == 0 && readTimeoutNanos > 0) {
                readSince = clock.getAsLong();
                ensureTimer();
            }
            upstream.read();
        }

        @Override
        public void onResponseContent(HttpContent content) {
            if (relayWhole) {
                relayWhole = false;
                relay(content, true); // head and body in one write
                return;
            }
            if (content instanceof FullHttpResponse whole) {
                content = new DefaultLastHttpContent(whole.content(), whole.trailingHeaders()); // the head went its own way
            }
            boolean last = content instanceof LastHttpContent;
            if (state == State.CAPTURING) {
                ByteBuf part = content.content();
                if (captured.readableBytes() + part.readableBytes() > capLimit) {
                    // too large to capture: relay what we have and stream the rest
                    shared.metrics().bodyOverCap("capture");
                    tap.onOverCap(responseHead);
                    state = State.RELAYING;
                    writeResponseHead(responseHead);
                    CompositeByteBuf held = captured;
                    captured = null;
                    bytesOut += held.readableBytes();
                    ctx.write(new io.netty.handler.codec.http.DefaultHttpContent(held), ctx.voidPromise());
                    relay(content, last);
                    return;
                }
                captured.addComponent(true, part.retain());
                content.release();
                if (!last) {
                    readResponse();
                    return;
                }
                CompositeByteBuf body = captured;
                captured = null;
                HttpResponse head = responseHead;
                // the upstream exchange is complete: give the connection back before the tap's I/O
                releaseUpstream(requestComplete && responseKeepAlive);
                tap.onBody(head, body).whenComplete((ok, error) -> ctx.executor().execute(() -> {
                    if (state != State.CAPTURING) {
                        body.release();
                        return;
                    }
                    if (error != null) {
                        body.release();
                        ErrorLog.tapFailed(error);
                        status = 502;
                        respondErrorAfterHead(HttpResponseStatus.BAD_GATEWAY, "Bad Gateway", "response capture: " + error);
                        return;
                    }
                    state = State.RELAYING;
                    int code = head.status().code();
                    if (code != 204 && code != 304 && !HttpMethod.HEAD.equals(request.method())) {
                        // the body was aggregated: its length is now known (RFC 9110 §8.6
                        // forbids Content-Length on 204, and HEAD/304 keep the upstream's)
                        head.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                        head.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
                    }
                    writeResponseHead(head);
                    bytesOut += body.readableBytes();
                    ctx.writeAndFlush(new DefaultLastHttpContent(body));
                    responseDone();
                }));
                return;
            }
            if (state != State.RELAYING) {
                content.release();
                return;
            }
            relay(content, last);
        }

        private void relay(HttpContent content, boolean last) {
            bytesOut += content.content().readableBytes();
            if (last) {
                ctx.writeAndFlush(content, ctx.voidPromise());
                releaseUpstream(requestComplete && responseKeepAlive);
                responseDone();
                return;
            }
            ctx.write(content, ctx.voidPromise()); // flushed at the end of this upstream read
            if (ctx.channel().isWritable()) {
                readResponse();
            } else {
                readSince = 0; // not read until the client catches up (onClientWritable): no deadline meanwhile
            }
        }

        @Override
        public void onUpstreamReadComplete() {
            if (readSince != 0) {
                readSince = clock.getAsLong(); // bytes came: the silence starts again
            }
            if (state == State.RELAYING) {
                ctx.flush();
            }
        }

        void onClientWritable() {
            if (state == State.RELAYING && upstream != null) {
                readResponse();
            }
        }

        private void writeResponseHead(HttpResponse response) {
            prepareResponseHead(response);
            ctx.write(response, ctx.voidPromise());
        }

        /** Makes the upstream's head fit for this client: hop-by-hop headers, framing, connection, version. */
        private void prepareResponseHead(HttpResponse response) {
            HttpHeaders h = response.headers();
            boolean chunked = HttpUtil.isTransferEncodingChunked(response);
            HopByHopHeaders.strip(h);
            int code = response.status().code();
            boolean bodyless = HttpMethod.HEAD.equals(request.method()) || code == 204 || code == 304;
            if (chunked) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else if (!bodyless && !h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                // close-delimited upstream body: chunk it for HTTP/1.1 clients, else close after it
                if (isHttp10Client() || !clientKeepAlive) {
                    closeClientAfter = true;
                } else {
                    h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                }
            }
            if (requestHasBody && !requestComplete) {
                closeClientAfter = true; // answered before the body ended: its rest will not be read
            }
            if (!clientKeepAlive || closeClientAfter || shared.lifecycle().draining()) {
                closeClientAfter = true;
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (isHttp10Client()) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            if (isHttp10Client()) {
                response.setProtocolVersion(HttpVersion.HTTP_1_0);
                if (chunked || h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
                    h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                    closeClientAfter = true;
                    h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                }
            } else {
                response.setProtocolVersion(HttpVersion.HTTP_1_1);
            }
            closeDelimited = !bodyless && !h.contains(HttpHeaderNames.CONTENT_LENGTH)
                    && !h.contains(HttpHeaderNames.TRANSFER_ENCODING);
        }

        private boolean isHttp10Client() {
            return http10Client;
        }

        private void releaseUpstream(boolean reusable) {
            readSince = 0; // nothing more awaited from it
            UpstreamConnection conn = upstream;
            if (conn != null) {
                upstream = null;
                conn.release(reusable);
            }
        }

        private void responseDone() {
            state = State.ANSWERED;
            if (!requestComplete && requestHasBody) {
                // answered before the request body ended: the rest is not worth reading
                closeClientAfter = true;
            }
            finishIfDone();
        }

        /** Ends the exchange once both the response is out and the request is consumed. */
        private void finishIfDone() {
            if (state != State.ANSWERED) {
                return;
            }
            if (!requestComplete && !closeClientAfter) {
                readNext(); // the empty LastHttpContent of a request without body
                return;
            }
            end(status);
            if (closeClientAfter) {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                readNext(); // the next request
            }
        }

        private void end(int finalStatus) {
            state = State.DONE;
            current = null;
            cancelTimer();
            long now = clock.getAsLong();
            idleSince = now;
            releaseBuffers();
            shared.metrics().exchangeEnded();
            shared.metrics().request(target.extra() ? EXTRA_ROUTE : kind.ordinal(), methodIndex, finalStatus);
            if (settings.accessLog()) {
                shared.accessLog().exchange(clientIp, request.method().name(), path, finalStatus, bytesIn, bytesOut,
                        upstreamNanos, now - startNanos, kind);
            }
            shared.lifecycle().exchangeEnded();
        }

        // ---- local answers and failures ----

        private void respondLocally(FullHttpResponse response) {
            status = response.status().code();
            if (upstream != null) {
                releaseUpstream(false);
            }
            state = State.RELAYING;
            bytesOut += response.content().readableBytes();
            if (requestHasBody && !requestComplete) {
                closeClientAfter = true;
            }
            writeResponseHeadLocal(response);
            responseDone();
        }

        private void writeResponseHeadLocal(FullHttpResponse response) {
            HttpHeaders h = response.headers();
            if (!h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
                h.set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            }
            if (!clientKeepAlive || closeClientAfter || shared.lifecycle().draining()) {
                closeClientAfter = true;
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (isHttp10Client()) {
                h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            response.setProtocolVersion(isHttp10Client() ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
            ctx.writeAndFlush(response);
        }

        void respondError(HttpResponseStatus errorStatus, String message, String cause) {
            if (state == State.DONE) {
                return;
            }
            ErrorLog.exchangeError(ctx, errorStatus.code(), request.method().name(), path, cause);
            if (requestHasBody && !requestComplete) {
                closeClientAfter = true;
            }
            respondLocally(ErrorResponder.response(errorStatus, message));
        }

        /** A failure after the response head was seen but before anything was relayed. */
        private void respondErrorAfterHead(HttpResponseStatus errorStatus, String message, String cause) {
            state = State.FORWARDING;
            respondError(errorStatus, message, cause);
        }

        private void requestFailed(String cause) {
            shared.metrics().refused("malformed-body");
            closeClientAfter = true;
            if (upstream != null) {
                releaseUpstream(false);
            }
            if (state == State.RELAYING || state == State.CAPTURING) {
                abort(cause);
                return;
            }
            requestComplete = true;
            respondError(HttpResponseStatus.BAD_REQUEST, "Bad Request: malformed body", cause);
        }

        @Override
        public void onUpstreamFailure(Throwable cause) {
            if (state == State.DONE || state == State.ANSWERED) {
                return;
            }
            cancelTimer();
            UpstreamFailure failure = cause instanceof UpstreamFailure u ? u
                    : new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, String.valueOf(cause), cause);
            shared.metrics().upstreamError(failure.kind().label());
            UpstreamConnection conn = upstream;
            boolean wasReused = conn != null && conn.reused();
            if (conn != null) {
                releaseUpstream(false);
            }
            if (state == State.RELAYING) {
                abort("upstream failed mid-response: " + failure.getMessage());
                return;
            }
            if (state == State.CAPTURING) {
                if (captured != null) {
                    captured.release();
                    captured = null;
                }
                if (failure.kind() == UpstreamFailure.Kind.READ_TIMEOUT) {
                    respondErrorAfterHead(HttpResponseStatus.GATEWAY_TIMEOUT, "Gateway Timeout", failure.getMessage());
                } else {
                    respondErrorAfterHead(HttpResponseStatus.BAD_GATEWAY, "Bad Gateway", failure.getMessage());
                }
                return;
            }
            if (failure.kind() == UpstreamFailure.Kind.RESET && wasReused && !retried && responseHead == null
                    && isIdempotent() && (!requestHasBody || (fullBody != null && requestComplete))) {
                retried = true; // a stale keep-alive connection: once more on another one
                requestSent = false;
                connect();
                return;
            }
            switch (failure.kind()) {
                case RESPONSE_TIMEOUT, CONNECT_TIMEOUT ->
                        respondError(HttpResponseStatus.GATEWAY_TIMEOUT, "Gateway Timeout", failure.getMessage());
                case POOL_EXHAUSTED ->
                        respondError(HttpResponseStatus.SERVICE_UNAVAILABLE, "Service Unavailable: upstream busy", failure.getMessage());
                default -> respondError(HttpResponseStatus.BAD_GATEWAY, "Bad Gateway", failure.getMessage());
            }
        }

        private boolean isIdempotent() {
            HttpMethod m = request.method();
            return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                    || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
        }

        /**
         * The response already started: the only honest signal left is closing the connection; a
         * reset where a close would read as the end of a close-delimited body.
         */
        private void abort(String cause) {
            ErrorLog.exchangeError(ctx, -1, request.method().name(), path, cause);
            end(-1);
            if (closeDelimited) {
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            }
            ctx.close();
        }

        void clientGone() {
            if (state == State.DONE) {
                return;
            }
            if (upstream != null) {
                releaseUpstream(false);
            }
            end(-1);
        }

        private void cancelTimer() {
            responseDeadline = 0;
            readSince = 0;
        }

        private void releaseBuffers() {
            if (bodyBuffer != null) {
                bodyBuffer.release();
                bodyBuffer = null;
            }
            if (fullBody != null) {
                fullBody.release();
                fullBody = null;
            }
            if (captured != null) {
                captured.release();
                captured = null;
            }
        }
    }
}
