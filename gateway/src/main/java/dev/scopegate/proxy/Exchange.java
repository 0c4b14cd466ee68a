package dev.scopegate.proxy;

// Over 400 lines: one request's whole life (plan, body, upstream, response, end) is one state machine, read in one place.

import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.proxy.route.BodyRewriter;
import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.ResponseTap;
import dev.scopegate.proxy.route.ResponseTaps;
import dev.scopegate.proxy.route.RouteKind;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.proxy.upstream.UpstreamConnection;
import dev.scopegate.proxy.upstream.UpstreamFailure;
import dev.scopegate.proxy.upstream.UpstreamListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
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
import io.netty.util.ReferenceCounted;
import io.netty.util.concurrent.Future;

import java.net.InetAddress;
import java.util.EnumSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One request/response exchange of a client connection, as a state machine: everything that
 * happens to it arrives through {@link #on(Event, Object)}, which checks the event against the
 * {@link #LEGAL} table before acting. An event the table does not allow in the current state
 * is a bug: its payload is released, the connection closed and the fault logged once.
 *
 * <p>Event-loop confined: the client channel, the upstream channel and every completion
 * (plans, rewriters, captures) run on the one event loop of the client connection.
 */
final class Exchange implements UpstreamListener {

    enum State {
        /** Made from a request head, not started. */
        NEW,
        /** Waiting for a deferred plan, the IdP's endpoints or a body rewrite. */
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
        /** The response is out; the rest of the request body is discarded. */
        ANSWERED,
        DONE
    }

    /** What can happen to an exchange; the payload each carries is named. */
    enum Event {
        /** Payload: the {@link HttpRequest}. Starts the exchange. */
        REQUEST_HEAD,
        /** Payload: an {@link HttpContent} of the request, owned by the exchange from here. */
        BODY_CHUNK,
        /** Payload: the deferred {@link Plan}, or the Throwable it failed with. */
        PLAN,
        /** Payload: Boolean, whether the IdP's endpoints became known, or a Throwable. */
        ENDPOINTS,
        /** Payload: the {@link BodyRewriter.Result}, or the Throwable the rewriter failed with. */
        BODY_REWRITTEN,
        /** Payload: the {@link UpstreamConnection} got for this exchange. */
        UPSTREAM_CONNECTED,
        /** Payload: none. */
        UPSTREAM_WRITABLE,
        /** Payload: the upstream's final {@link HttpResponse} head. */
        RESPONSE_HEAD,
        /** Payload: an {@link HttpContent} of the response, owned by the exchange from here. */
        RESPONSE_CHUNK,
        /** Payload: none. One upstream socket read is complete. */
        UPSTREAM_READ_COMPLETE,
        /** Payload: the captured body ({@link ByteBuf}) kept by the tap, or the Throwable it failed with. */
        CAPTURED,
        /** Payload: none. The client accepts writes again. */
        CLIENT_WRITABLE,
        /** Payload: none. The connection timer saw {@link #deadline()} pass. */
        TIMEOUT,
        /** Payload: none. The client connection closed. */
        CLOSE,
        /** Payload: the Throwable the upstream (connect, write, read) failed with. */
        ERROR
    }

    /** What the exchange needs of its client connection (the Netty adapter, {@link FrontendHandler}). */
    interface Client {
        ChannelHandlerContext ctx();

        /** Asks for exactly one more message from the client (delivered as an event). */
        void readNext();

        /** An idle pooled connection to {@code origin}, or null. */
        UpstreamConnection pollIdle(Origin origin);

        Future<UpstreamConnection> acquire(Origin origin);

        /** A deadline was set: the connection timer must run. */
        void ensureTimer();

        /** The exchange is over (at {@code nanos}): the connection is idle, or closing. */
        void ended(long nanos);

        /* nullable */ InetAddress clientAddress();

        String clientIp();
    }

    /** {@code LEGAL[event]}: the states in which the event may arrive. */
    private static final EnumSet<?>[] LEGAL = new EnumSet<?>[Event.values().length];
    /** Completions that may arrive after the exchange ended (the client left): their payload is released. */
    private static final EnumSet<Event> LATE = EnumSet.of(Event.PLAN, Event.ENDPOINTS, Event.BODY_REWRITTEN,
            Event.UPSTREAM_CONNECTED, Event.CAPTURED, Event.ERROR, Event.UPSTREAM_WRITABLE,
            Event.UPSTREAM_READ_COMPLETE, Event.CLIENT_WRITABLE, Event.TIMEOUT, Event.CLOSE);

    static {
        EnumSet<State> live = EnumSet.range(State.NEW, State.ANSWERED);
        legal(Event.REQUEST_HEAD, EnumSet.of(State.NEW));
        legal(Event.BODY_CHUNK, EnumSet.of(State.BUFFERING, State.CONNECTING, State.FORWARDING, State.CAPTURING,
                State.RELAYING, State.ANSWERED));
        legal(Event.PLAN, EnumSet.of(State.PLANNING));
        legal(Event.ENDPOINTS, EnumSet.of(State.PLANNING));
        legal(Event.BODY_REWRITTEN, EnumSet.of(State.PLANNING));
        legal(Event.UPSTREAM_CONNECTED, EnumSet.of(State.CONNECTING));
        legal(Event.UPSTREAM_WRITABLE, live);
        legal(Event.RESPONSE_HEAD, EnumSet.of(State.FORWARDING));
        legal(Event.RESPONSE_CHUNK, EnumSet.of(State.CAPTURING, State.RELAYING));
        legal(Event.UPSTREAM_READ_COMPLETE, live);
        legal(Event.CAPTURED, EnumSet.of(State.CAPTURING));
        legal(Event.CLIENT_WRITABLE, live);
        legal(Event.TIMEOUT, live);
        legal(Event.CLOSE, live);
        legal(Event.ERROR, live);
    }

    private static void legal(Event event, EnumSet<State> states) {
        LEGAL[event.ordinal()] = states;
    }

    static boolean isLegal(State state, Event event) {
        return LEGAL[event.ordinal()].contains(state);
    }

    private static final int EXTRA_ROUTE = RouteKind.EXTRA_ROUTE.ordinal();
    /** A client held back while the IdP's metadata is unavailable may try again this soon. */
    private static final String RETRY_AFTER_SECONDS = "5";

    private final FrontendHandler.Shared shared;
    private final Client client;
    private final ChannelHandlerContext ctx;
    private final LongSupplier clock;
    private final HttpRequest request;
    private final String path;
    /** Final once decided; a request held for the endpoints is classified again when they arrive. */
    private RouteKind kind;
    private final ProxySettings.Target target;
    private final ProxySettings settings;
    private final boolean clientKeepAlive;
    private final boolean requestChunked;
    private final boolean requestHasBody;
    /** Kept apart: {@link #prepareHead} rewrites the request's version to HTTP/1.1 in place. */
    private final boolean http10Client;
    private final long startNanos;
    private final int methodIndex;

    private State state = State.NEW;
    private ResponseTap tap;
    private BodyRewriter rewriter;
    private int maxBodyBytes;
    private CompositeByteBuf bodyBuffer;
    /** The buffered body while its rewrite's result is handled (owned by the rewrite's callback). */
    private CompositeByteBuf rewritten;
    /** A body the rewriter replaced (or the buffered original) to send after the head. */
    private ByteBuf fullBody;
    private UpstreamConnection upstream;
    /** The request went upstream as one full message (it has no body): its empty end is not written. */
    private boolean headWasWhole;
    private boolean requestComplete;
    private boolean requestSent;
    private boolean waitingUpstreamWritable;
    /** Request bytes written upstream but not flushed yet (see {@link #flushUpstream}). */
    private boolean upstreamFlushPending;
    private boolean retried;
    private boolean headPrepared;
    /** nanoTime by which the response head must arrive; 0 when none is awaited. */
    private long responseDeadline;
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
    /** The head just received is a whole response: the next response chunk relays it as one message. */
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

    Exchange(FrontendHandler.Shared shared, Client client, HttpRequest request, String path, RouteKind kind,
             ProxySettings.Target target, ProxySettings settings, boolean clientKeepAlive) {
        this.shared = shared;
        this.client = client;
        this.ctx = client.ctx();
        this.clock = shared.nanoClock();
        this.startNanos = clock.getAsLong();
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

    State state() {
        return state;
    }

    /** The one entry point: every event of this exchange, from the client, the upstream, the timer or a completion. */
    void on(Event event, Object payload) {
        if (!isLegal(state, event)) {
            if (state == State.DONE && LATE.contains(event)) {
                releaseLate(payload); // the exchange ended first (the client left): nothing to do
            } else {
                illegal(event, payload);
            }
            return;
        }
        switch (event) {
            case REQUEST_HEAD -> start();
            case BODY_CHUNK -> onRequestContent((HttpContent) payload);
            case PLAN -> planArrived(payload);
            case ENDPOINTS -> endpointsArrived(payload);
            case BODY_REWRITTEN -> bodyRewritten(payload);
            case UPSTREAM_CONNECTED -> connected((UpstreamConnection) payload);
            case UPSTREAM_WRITABLE -> upstreamWritable();
            case RESPONSE_HEAD -> responseHead((HttpResponse) payload);
            case RESPONSE_CHUNK -> responseContent((HttpContent) payload);
            case UPSTREAM_READ_COMPLETE -> upstreamReadComplete();
            case CAPTURED -> captureKept(payload);
            case CLIENT_WRITABLE -> clientWritable();
            case TIMEOUT -> deadlinePassed();
            case CLOSE -> clientGone();
            case ERROR -> upstreamFailed((Throwable) payload);
        }
    }

    /** The only place the state changes. */
    private void enter(State next) {
        state = next;
    }

    private void illegal(Event event, Object payload) {
        ErrorLog.bug("exchange: " + event + " in state " + state + " for " + request.method() + " "
                + AccessLog.printable(path), null);
        releaseLate(payload);
        if (state != State.DONE) {
            releaseUpstream(false);
            end(-1);
        }
        ctx.close();
    }

    private static void releaseLate(Object payload) {
        if (payload instanceof ReferenceCounted rc) {
            rc.release();
        } else if (payload instanceof Plan.Respond r) {
            r.response().release();
        } else if (payload instanceof BodyRewriter.Result.Reply r) {
            r.response().release();
        } else if (payload instanceof UpstreamConnection c) {
            c.release(true);
        }
    }

    // ---- UpstreamListener: the bound upstream connection's callbacks, as events ----

    @Override
    public void onResponseHead(HttpResponse response) {
        on(Event.RESPONSE_HEAD, response);
    }

    @Override
    public void onResponseContent(HttpContent content) {
        on(Event.RESPONSE_CHUNK, content);
    }

    @Override
    public void onUpstreamFailure(Throwable cause) {
        on(Event.ERROR, cause);
    }

    @Override
    public void onUpstreamWritable() {
        on(Event.UPSTREAM_WRITABLE, null);
    }

    @Override
    public void onUpstreamReadComplete() {
        on(Event.UPSTREAM_READ_COMPLETE, null);
    }

    // ---- planning ----

    private void start() {
        if (kind == RouteKind.PASS_THROUGH) {
            // Before the IdP's first metadata, "pass-through" may be an endpoint not known yet:
            // the request is held (its body unread) and classified again when they arrive.
            CompletionStage<Boolean> pending = shared.router().endpointsPending();
            if (pending != null) {
                enter(State.PLANNING);
                pending.whenComplete((known, error) -> ctx.executor().execute(
                        () -> on(Event.ENDPOINTS, error != null ? error : known)));
                return;
            }
        }
        decide();
    }

    private void decide() {
        Plan plan;
        try {
            plan = target.extra() ? target.plan(path) : shared.router().plan(request, path, kind);
        } catch (RuntimeException e) {
            ErrorLog.bug("router failed", e);
            respondError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", "router: " + e);
            return;
        }
        apply(plan);
    }

    private void endpointsArrived(Object known) {
        if (Boolean.TRUE.equals(known) && shared.router().endpointsPending() == null) {
            shared.metrics().metadataWait(true);
            kind = shared.router().classify(request.method(), path);
            decide();
            return;
        }
        shared.metrics().metadataWait(false);
        ErrorLog.exchangeError(ctx, 503, request.method().name(), path, "IdP metadata unavailable: endpoints unknown");
        FullHttpResponse r = ErrorResponder.response(HttpResponseStatus.SERVICE_UNAVAILABLE,
                "Service Unavailable: authorization server metadata not available yet");
        r.headers().set(HttpHeaderNames.RETRY_AFTER, RETRY_AFTER_SECONDS);
        respondLocally(r);
    }

    private void apply(Plan plan) {
        if (plan instanceof Plan.Forward f) {
            tap = f.tap();
            connect();
        } else if (plan instanceof Plan.BufferBody b) {
            tap = b.tap();
            rewriter = b.rewriter();
            maxBodyBytes = b.maxBytes();
            enter(State.BUFFERING);
            bodyBuffer = ctx.alloc().compositeBuffer(64);
            client.readNext();
        } else if (plan instanceof Plan.Respond r) {
            respondLocally(r.response());
        } else if (plan instanceof Plan.Defer d) {
            enter(State.PLANNING);
            d.plan().whenComplete((next, error) -> ctx.executor().execute(
                    () -> on(Event.PLAN, error != null ? error : next)));
        }
    }

    private void planArrived(Object plan) {
        if (plan instanceof Throwable error) {
            ErrorLog.bug("deferred plan failed", error);
            respondError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", "plan: " + error);
        } else {
            apply((Plan) plan);
        }
    }

    // ---- request side ----

    private void onRequestContent(HttpContent content) {
        if (content.decoderResult().isFailure()) {
            content.release();
            requestFailed("malformed request body: " + content.decoderResult().cause().getMessage());
            return;
        }
        bytesIn += content.content().readableBytes();
        boolean last = content instanceof LastHttpContent;
        switch (state) {
            case BUFFERING -> buffer(content, last);
            case CONNECTING -> { // the empty end of a bodiless request whose first attempt is being retried
                content.release();
                requestComplete |= last;
            }
            case FORWARDING, RELAYING, CAPTURING -> stream(content, last);
            default -> { // ANSWERED: we answered before the body ended: drop the rest
                content.release();
                requestComplete |= last;
                finishIfDone();
            }
        }
    }

    private void buffer(HttpContent content, boolean last) {
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
        if (!last) {
            client.readNext();
            return;
        }
        requestComplete = true;
        enter(State.PLANNING);
        CompositeByteBuf body = bodyBuffer;
        // From here the callback below owns the body and releases it exactly once: the exchange
        // may end meanwhile (client gone) or inside it (Reply), and must not release it too.
        bodyBuffer = null;
        rewriter.onBody(request, body).whenComplete((result, error) -> ctx.executor().execute(() -> {
            rewritten = body;
            try {
                on(Event.BODY_REWRITTEN, error != null ? error : result);
            } finally {
                rewritten = null;
                body.release();
            }
        }));
    }

    private void bodyRewritten(Object result) {
        if (result instanceof Throwable error) {
            ErrorLog.bug("body rewriter failed", error);
            respondError(HttpResponseStatus.INTERNAL_SERVER_ERROR, "Internal Server Error", "rewriter: " + error);
        } else if (result instanceof BodyRewriter.Result.Reply r) {
            respondLocally(r.response());
        } else {
            if (result instanceof BodyRewriter.Result.Replace r && r.tap() != null) {
                tap = ResponseTaps.both(r.tap(), tap);
            }
            fullBody = result instanceof BodyRewriter.Result.Replace r ? Unpooled.wrappedBuffer(r.body()) : rewritten.retain();
            connect();
        }
    }

    private void stream(HttpContent content, boolean last) {
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
        upstream.write(content); // a failed write comes back as an ERROR event
        upstreamFlushPending = true;
        if (last) {
            requestSent();
        } else if (upstream.isWritable()) {
            client.readNext();
        } else {
            waitingUpstreamWritable = true;
        }
    }

    private void connect() {
        enter(State.CONNECTING);
        UpstreamConnection idle = client.pollIdle(target.origin());
        if (idle != null) {
            on(Event.UPSTREAM_CONNECTED, idle);
            return;
        }
        client.acquire(target.origin()).addListener((Future<UpstreamConnection> f) ->
                on(f.isSuccess() ? Event.UPSTREAM_CONNECTED : Event.ERROR, f.isSuccess() ? f.getNow() : f.cause()));
    }

    private void connected(UpstreamConnection conn) {
        upstream = conn;
        conn.bind(this);
        enter(State.FORWARDING);
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
            client.readNext();
        } else {
            conn.write(request); // flushed together with the body parts of the same read
            upstreamFlushPending = true;
            client.readNext();
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
        ForwardedHeaders.apply(h, client.clientAddress(), client.clientIp(), settings, target);
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
            client.ensureTimer();
        }
    }

    /** Request bytes go upstream with one flush per client read: called by the adapter at its end. */
    void flushUpstream() {
        if (upstreamFlushPending) {
            upstreamFlushPending = false;
            if (upstream != null) {
                upstream.flush();
            }
        }
    }

    private void upstreamWritable() {
        if (waitingUpstreamWritable && upstream != null && !requestComplete) {
            waitingUpstreamWritable = false;
            client.readNext();
        }
    }

    // ---- timeouts ----

    /** nanoTime by which the upstream must send its head or more of its response; 0: none awaited. */
    long deadline() {
        return responseDeadline != 0 ? responseDeadline : readSince != 0 ? readSince + readTimeoutNanos : 0;
    }

    private void deadlinePassed() {
        if (responseDeadline != 0) {
            responseDeadline = 0;
            if (responseHead == null && state == State.FORWARDING) {
                upstreamFailed(new UpstreamFailure(UpstreamFailure.Kind.RESPONSE_TIMEOUT,
                        "no response within " + settings.responseTimeoutMillis() + " ms", null));
            }
        } else if (readSince != 0) {
            readSince = 0;
            if ((state == State.RELAYING || state == State.CAPTURING) && upstream != null) {
                upstreamFailed(new UpstreamFailure(UpstreamFailure.Kind.READ_TIMEOUT,
                        "no response bytes for " + target.readTimeoutMillis() + " ms (read-timeout)", null));
            }
        }
    }

    private void stopDeadlines() {
        responseDeadline = 0;
        readSince = 0;
    }

    // ---- response side ----

    private void responseHead(HttpResponse response) {
        stopDeadlines();
        upstreamNanos = clock.getAsLong() - (sentNanos != 0 ? sentNanos : startNanos);
        shared.metrics().upstreamLatency(target.extra() ? EXTRA_ROUTE : kind.ordinal(), upstreamNanos);
        // A whole response (head and body from one upstream read) is relayed as one message:
        // a RESPONSE_CHUNK follows at once with the same object.
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
            enter(State.CAPTURING);
            capLimit = cap;
            captured = ctx.alloc().compositeBuffer(64);
            readResponse();
            return;
        }
        enter(State.RELAYING);
        if (whole) {
            prepareResponseHead(response);
            relayWhole = true;
            return;
        }
        writeResponseHead(response);
        // Flushed when this upstream read completes (UPSTREAM_READ_COMPLETE), together with any
        // body that came in the same read: one write per read, not one per part. A head that
        // arrives alone (an event stream, a slow body) still reaches the client at once.
        if (ctx.channel().isWritable()) {
            readResponse(); // else CLIENT_WRITABLE asks (and starts the read deadline)
        }
    }

    /**
     * Asks the upstream for more of the response. The read deadline runs from now unless it
     * already runs (then the next upstream read moves it: {@link #upstreamReadComplete}).
     */
    private void readResponse() {
        if (readSince == 0 && readTimeoutNanos > 0) {
            readSince = clock.getAsLong();
            client.ensureTimer();
        }
        upstream.read();
    }

    private void responseContent(HttpContent content) {
        if (relayWhole) {
            relayWhole = false;
            relay(content, true); // head and body in one write
            return;
        }
        if (content instanceof FullHttpResponse whole) {
            content = new DefaultLastHttpContent(whole.content(), whole.trailingHeaders()); // the head went its own way
        }
        boolean last = content instanceof LastHttpContent;
        if (state == State.RELAYING) {
            relay(content, last);
            return;
        }
        ByteBuf part = content.content();
        if (captured.readableBytes() + part.readableBytes() > capLimit) {
            // too large to capture: relay what we have and stream the rest
            shared.metrics().bodyOverCap("capture");
            tap.onOverCap(responseHead);
            enter(State.RELAYING);
            writeResponseHead(responseHead);
            CompositeByteBuf held = captured;
            captured = null;
            bytesOut += held.readableBytes();
            ctx.write(new DefaultHttpContent(held), ctx.voidPromise());
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
        // the upstream exchange is complete: give the connection back before the tap's I/O
        releaseUpstream(requestComplete && responseKeepAlive);
        tap.onBody(responseHead, body).whenComplete((ok, error) -> ctx.executor().execute(() -> {
            if (error != null) {
                body.release();
            }
            on(Event.CAPTURED, error != null ? error : body);
        }));
    }

    private void captureKept(Object result) {
        if (result instanceof Throwable error) {
            ErrorLog.tapFailed(error);
            status = 502;
            respondErrorAfterHead(HttpResponseStatus.BAD_GATEWAY, "Bad Gateway", "response capture: " + error);
            return;
        }
        ByteBuf body = (ByteBuf) result;
        enter(State.RELAYING);
        ResponseFraming.setAggregatedLength(responseHead, HttpMethod.HEAD.equals(request.method()), body.readableBytes());
        writeResponseHead(responseHead);
        bytesOut += body.readableBytes();
        ctx.writeAndFlush(new DefaultLastHttpContent(body));
        responseDone();
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
            readSince = 0; // not read until the client catches up (CLIENT_WRITABLE): no deadline meanwhile
        }
    }

    private void upstreamReadComplete() {
        if (readSince != 0) {
            readSince = clock.getAsLong(); // bytes came: the silence starts again
        }
        if (state == State.RELAYING) {
            ctx.flush();
        }
    }

    private void clientWritable() {
        if (state == State.RELAYING && upstream != null) {
            readResponse();
        }
    }

    private void writeResponseHead(HttpResponse response) {
        prepareResponseHead(response);
        ctx.write(response, ctx.voidPromise());
    }

    private void prepareResponseHead(HttpResponse response) {
        int framing = ResponseFraming.prepare(response, HttpMethod.HEAD.equals(request.method()), http10Client,
                clientKeepAlive && !shared.lifecycle().draining(), closeClientAfter || (requestHasBody && !requestComplete));
        closeClientAfter = (framing & ResponseFraming.CLOSE_AFTER) != 0;
        closeDelimited = (framing & ResponseFraming.CLOSE_DELIMITED) != 0;
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
        enter(State.ANSWERED);
        if (!requestComplete && requestHasBody) {
            // answered before the request body ended: the rest is not worth reading
            closeClientAfter = true;
        }
        finishIfDone();
    }

    /** Ends the exchange once both the response is out and the request is consumed. */
    private void finishIfDone() {
        if (!requestComplete && !closeClientAfter) {
            client.readNext(); // the empty LastHttpContent of a request without body
            return;
        }
        end(status);
        if (closeClientAfter) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            client.readNext(); // the next request
        }
    }

    private void end(int finalStatus) {
        enter(State.DONE);
        stopDeadlines();
        long now = clock.getAsLong();
        client.ended(now);
        releaseBuffers();
        shared.metrics().exchangeEnded();
        shared.metrics().request(target.extra() ? EXTRA_ROUTE : kind.ordinal(), methodIndex, finalStatus);
        if (settings.accessLog()) {
            shared.accessLog().exchange(client.clientIp(), request.method().name(), path, finalStatus, bytesIn, bytesOut,
                    upstreamNanos, now - startNanos, kind);
        }
        shared.lifecycle().exchangeEnded();
    }

    // ---- local answers and failures ----

    private void respondLocally(FullHttpResponse response) {
        status = response.status().code();
        releaseUpstream(false);
        enter(State.RELAYING);
        bytesOut += response.content().readableBytes();
        int framing = ResponseFraming.prepareLocal(response, http10Client, clientKeepAlive && !shared.lifecycle().draining(),
                closeClientAfter || (requestHasBody && !requestComplete));
        closeClientAfter = (framing & ResponseFraming.CLOSE_AFTER) != 0;
        ctx.writeAndFlush(response);
        responseDone();
    }

    private void respondError(HttpResponseStatus errorStatus, String message, String cause) {
        ErrorLog.exchangeError(ctx, errorStatus.code(), request.method().name(), path, cause);
        respondLocally(ErrorResponder.response(errorStatus, message));
    }

    /** A failure after the response head was seen but before anything was relayed. */
    private void respondErrorAfterHead(HttpResponseStatus errorStatus, String message, String cause) {
        enter(State.FORWARDING);
        respondError(errorStatus, message, cause);
    }

    private void requestFailed(String cause) {
        shared.metrics().refused("malformed-body");
        closeClientAfter = true;
        releaseUpstream(false);
        if (state == State.RELAYING || state == State.CAPTURING) {
            abort(cause);
            return;
        }
        requestComplete = true;
        respondError(HttpResponseStatus.BAD_REQUEST, "Bad Request: malformed body", cause);
    }

    private void upstreamFailed(Throwable cause) {
        if (state == State.ANSWERED) {
            return; // the response is out: nothing left to fail
        }
        stopDeadlines();
        UpstreamFailure failure = cause instanceof UpstreamFailure u ? u
                : new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, String.valueOf(cause), cause);
        shared.metrics().upstreamError(failure.kind().label());
        boolean wasReused = upstream != null && upstream.reused();
        releaseUpstream(false);
        if (state == State.RELAYING) {
            abort("upstream failed mid-response: " + failure.getMessage());
            return;
        }
        if (state == State.CAPTURING) {
            if (captured != null) {
                captured.release();
                captured = null;
            }
            boolean timeout = failure.kind() == UpstreamFailure.Kind.READ_TIMEOUT;
            respondErrorAfterHead(timeout ? HttpResponseStatus.GATEWAY_TIMEOUT : HttpResponseStatus.BAD_GATEWAY,
                    timeout ? "Gateway Timeout" : "Bad Gateway", failure.getMessage());
            return;
        }
        if (RetryPolicy.mayRetry(failure.kind(), wasReused, retried, responseHead != null, request.method(),
                requestHasBody, fullBody != null && requestComplete)) {
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

    private void clientGone() {
        releaseUpstream(false);
        end(-1);
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

    /** A 100 Continue, sent when this request's turn comes, never ahead of an earlier response. */
    static FullHttpResponse continueResponse() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER);
    }
}
