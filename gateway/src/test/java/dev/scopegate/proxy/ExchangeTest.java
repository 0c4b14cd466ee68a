package dev.scopegate.proxy;

import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.proxy.Exchange.Event;
import dev.scopegate.proxy.Exchange.State;
import dev.scopegate.proxy.route.BodyRewriter;
import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.RequestRouter;
import dev.scopegate.proxy.route.ResponseTap;
import dev.scopegate.proxy.route.RouteKind;
import dev.scopegate.proxy.upstream.Origin;
import dev.scopegate.proxy.upstream.TestConnections;
import dev.scopegate.proxy.upstream.UpstreamClient;
import dev.scopegate.proxy.upstream.UpstreamConnection;
import dev.scopegate.proxy.upstream.UpstreamFailure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.resolver.DefaultAddressResolverGroup;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each transition of {@link Exchange}, legal and illegal, without sockets: the client is an
 * {@link EmbeddedChannel}, the upstream an {@link UpstreamConnection} on another, time an
 * {@link AtomicLong}. Every test ends with both channels finished and everything released.
 */
class ExchangeTest {

    private static final ProxySettings.Target IDP =
            new ProxySettings.Target("/", Origin.of(URI.create("http://idp:9000")), false, false, 2_000);
    private static final ProxySettings SETTINGS = new ProxySettings(IDP, List.of(), 1_000, List.of(), null, null, false, false);

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final EmbeddedChannel clientChannel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
    private final EmbeddedChannel upstreamChannel = new EmbeddedChannel();
    private final UpstreamConnection upstream = TestConnections.on(upstreamChannel);
    private Plan plan = Plan.FORWARD;
    private final FakeClient client = new FakeClient();
    private final FrontendHandler.Shared shared = new FrontendHandler.Shared(() -> SETTINGS,
            new UpstreamClient(NioSocketChannel.class, DefaultAddressResolverGroup.INSTANCE,
                    new UpstreamClient.Settings(Duration.ofSeconds(1), 1, 1, Duration.ZERO, 8192), o -> null),
            new Router(), new ProxyMetrics(new SimpleMeterRegistry(),
            Arrays.stream(RouteKind.values()).map(RouteKind::label).toArray(String[]::new)),
            new AccessLog(), new Lifecycle(), now::get);

    /** Fails a test whose buffers leak (paranoid detection, see the surefire argLine). */
    private final LogWatch watch = LogWatch.attach();

    {
        watch.allow("exchange: "); // the illegal transitions tested here are logged as bugs, once each
    }

    @AfterEach
    void releaseEverything() {
        clientChannel.finishAndReleaseAll();
        upstreamChannel.finishAndReleaseAll();
        GatewayFixture.provokeLeakReports();
        watch.close();
        assertThat(watch.problems()).isEmpty();
    }

    /** The IdP's endpoints while not known yet (null: known); {@link #classifyAs} once they are. */
    private CompletableFuture<Boolean> endpoints;
    private RouteKind classifyAs = RouteKind.PASS_THROUGH;
    /** The kind each {@link RequestRouter#plan} call was given, in order. */
    private final List<RouteKind> planned = new ArrayList<>();

    private final class Router implements RequestRouter {
        @Override
        public RouteKind classify(HttpMethod method, String path) {
            return classifyAs;
        }

        @Override
        public Plan plan(HttpRequest request, String path, RouteKind kind) {
            planned.add(kind);
            return plan;
        }

        @Override
        public CompletionStage<Boolean> endpointsPending() {
            return endpoints == null || endpoints.isDone() ? null : endpoints;
        }
    }

    /** Counts the read() calls that reach a channel's head: how often the exchange asked the upstream for more. */
    private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
        int reads;

        @Override
        public void read(ChannelHandlerContext ctx) throws Exception {
            reads++;
            super.read(ctx);
        }
    }

    private final class FakeClient implements Exchange.Client {
        int reads;
        long endedAt = -1;
        UpstreamConnection idle = upstream;
        /** Handed out by {@link #acquire}, one per call, before it fails. */
        final ArrayDeque<UpstreamConnection> fresh = new ArrayDeque<>();
        int acquires;

        @Override
        public ChannelHandlerContext ctx() {
            return clientChannel.pipeline().firstContext();
        }

        @Override
        public void readNext() {
            reads++;
        }

        @Override
        public UpstreamConnection pollIdle(Origin origin) {
            UpstreamConnection c = idle;
            idle = null;
            return c;
        }

        @Override
        public Future<UpstreamConnection> acquire(Origin origin) {
            acquires++;
            UpstreamConnection next = fresh.pollFirst();
            if (next != null) {
                return clientChannel.eventLoop().newSucceededFuture(next);
            }
            return clientChannel.eventLoop().newFailedFuture(
                    new UpstreamFailure(UpstreamFailure.Kind.CONNECT_ERROR, "no second connection here", null));
        }

        @Override
        public void ensureTimer() {
        }

        @Override
        public void ended(long nanos) {
            endedAt = nanos;
        }

        @Override
        public InetAddress clientAddress() {
            return null;
        }

        @Override
        public String clientIp() {
            return "192.0.2.1";
        }
    }

    private Exchange start(HttpMethod method) {
        return start(request(method));
    }

    /** A request head to /x with the given header name/value pairs. */
    private static HttpRequest request(HttpMethod method, String... headers) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "/x");
        request.headers().set("Host", "gw");
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().set(headers[i], headers[i + 1]);
        }
        return request;
    }

    private Exchange start(HttpRequest request) {
        Exchange x = new Exchange(shared, client, request, "/x", RouteKind.PASS_THROUGH, IDP, SETTINGS, true);
        x.on(Event.REQUEST_HEAD, request);
        return x;
    }

    private static HttpContent part(String text) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    private static LastHttpContent lastPart(String text) {
        return new DefaultLastHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    private static FullHttpResponse answer(HttpResponseStatus status, String body) {
        FullHttpResponse r = ok(body);
        r.setStatus(status);
        return r;
    }

    /** Marks {@code c} as having served an exchange already (kept idle in its pool): {@code reused()} from now. */
    private static UpstreamConnection servedBefore(UpstreamConnection c) {
        c.release(true);
        assertThat(c.reused()).isTrue();
        return c;
    }

    /** Reads what the client got and releases it: the content of one written message. */
    private String writtenText() {
        Object out = clientChannel.readOutbound();
        assertThat(out).isInstanceOf(HttpContent.class);
        HttpContent c = (HttpContent) out;
        try {
            return c.content().toString(StandardCharsets.US_ASCII);
        } finally {
            c.release();
        }
    }

    private static FullHttpResponse ok(String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII));
        r.headers().set("Content-Length", body.length());
        return r;
    }

    private HttpResponse written() {
        Object out = clientChannel.readOutbound();
        assertThat(out).isInstanceOf(HttpResponse.class);
        return (HttpResponse) out;
    }

    @Test
    void aGetGoesUpstreamAndItsResponseBackThenTheExchangeEnds() {
        Exchange x = start(HttpMethod.GET);
        assertThat(x.state()).isEqualTo(State.FORWARDING); // an idle connection: connected at once
        assertThat(client.reads).isEqualTo(1); // for the request's empty end
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        x.flushUpstream();
        HttpRequest sent = upstreamChannel.readOutbound();
        assertThat(sent.headers().get("X-Forwarded-For")).isEqualTo("192.0.2.1");
        assertThat(x.deadline()).isEqualTo(now.get() + TimeUnit.SECONDS.toNanos(1));

        upstreamChannel.writeInbound(ok("hello")); // RESPONSE_HEAD and RESPONSE_CHUNK, through the connection
        assertThat(x.state()).isEqualTo(State.DONE);
        FullHttpResponse relayed = (FullHttpResponse) written();
        assertThat(relayed.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
        relayed.release();
        assertThat(client.endedAt).isEqualTo(now.get());
        assertThat(client.reads).isEqualTo(2); // the next request
        assertThat(clientChannel.isOpen()).isTrue();
    }

    @Test
    void noResponseHeadBeforeTheResponseTimeoutIsA504() {
        Exchange x = start(HttpMethod.GET);
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
        assertThat(x.deadline() - now.get()).isPositive();
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(2));
        x.on(Event.TIMEOUT, null);
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(written().status().code()).isEqualTo(504);
        assertThat(upstreamChannel.isOpen()).isFalse(); // never reused: its answer may still come
    }

    @Test
    void silenceAfterTheHeadPastTheReadTimeoutAbortsTheResponse() {
        Exchange x = start(HttpMethod.GET);
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set("Content-Length", 10);
        x.on(Event.RESPONSE_HEAD, head);
        x.on(Event.RESPONSE_CHUNK, new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
        assertThat(x.state()).isEqualTo(State.RELAYING);
        x.on(Event.UPSTREAM_READ_COMPLETE, null);
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1_999));
        assertThat(x.deadline()).isGreaterThan(now.get());
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(2));
        x.on(Event.TIMEOUT, null);
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(clientChannel.isOpen()).isFalse();
    }

    @Test
    void aLocalAnswerEndsTheExchangeWithoutUpstream() {
        plan = new Plan.Respond(ok("local"));
        Exchange x = start(HttpMethod.GET);
        assertThat(x.state()).isEqualTo(State.ANSWERED); // its empty end still to read
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(x.state()).isEqualTo(State.DONE);
        FullHttpResponse r = (FullHttpResponse) written();
        assertThat(r.content().toString(StandardCharsets.US_ASCII)).isEqualTo("local");
        r.release();
        assertThat(client.idle).isSameAs(upstream); // never asked for
    }

    @Test
    void aDeferredPlanIsCarriedOutWhenItArrives() {
        CompletableFuture<Plan> later = new CompletableFuture<>();
        plan = new Plan.Defer(later);
        Exchange x = start(HttpMethod.GET);
        assertThat(x.state()).isEqualTo(State.PLANNING);
        later.complete(Plan.FORWARD);
        clientChannel.runPendingTasks();
        assertThat(x.state()).isEqualTo(State.FORWARDING);
    }

    @Test
    void aPlanArrivingAfterTheClientLeftIsReleased() {
        CompletableFuture<Plan> later = new CompletableFuture<>();
        plan = new Plan.Defer(later);
        Exchange x = start(HttpMethod.GET);
        x.on(Event.CLOSE, null);
        assertThat(x.state()).isEqualTo(State.DONE);
        FullHttpResponse late = ok("late");
        later.complete(new Plan.Respond(late));
        clientChannel.runPendingTasks();
        assertThat(late.refCnt()).isZero();
        assertThat(clientChannel.outboundMessages()).isEmpty();
    }

    @Test
    void theClientLeavingMidExchangeClosesTheUpstream() {
        Exchange x = start(HttpMethod.GET);
        x.on(Event.CLOSE, null);
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(upstreamChannel.isOpen()).isFalse();
        assertThat(client.endedAt).isPositive();
    }

    @Test
    void anUpstreamFailureBeforeTheHeadIsA502() {
        Exchange x = start(HttpMethod.POST);
        x.on(Event.ERROR, new UpstreamFailure(UpstreamFailure.Kind.RESET, "reset", null));
        assertThat(x.state()).isEqualTo(State.ANSWERED); // a fresh connection and a POST: no retry
        assertThat(written().status().code()).isEqualTo(502);
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT); // the request's (empty) end
        assertThat(x.state()).isEqualTo(State.DONE);
    }

    @Test
    void aResponseChunkBeforeAnyHeadIsRefusedReleasedAndClosed() {
        Exchange x = start(HttpMethod.GET);
        ByteBuf stray = Unpooled.copiedBuffer("stray", StandardCharsets.US_ASCII);
        x.on(Event.RESPONSE_CHUNK, new DefaultHttpContent(stray));
        assertThat(stray.refCnt()).isZero();
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(clientChannel.isOpen()).isFalse();
        assertThat(upstreamChannel.isOpen()).isFalse();
    }

    @Test
    void aSecondRequestHeadDuringAnExchangeIsRefusedAndClosed() {
        Exchange x = start(HttpMethod.GET);
        x.on(Event.REQUEST_HEAD, new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/y"));
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(clientChannel.isOpen()).isFalse();
    }

    @Test
    void aBodyChunkWhilePlanningIsRefusedReleasedAndClosed() {
        plan = new Plan.Defer(new CompletableFuture<>());
        Exchange x = start(HttpMethod.POST);
        ByteBuf part = Unpooled.copiedBuffer("a=b", StandardCharsets.US_ASCII);
        x.on(Event.BODY_CHUNK, new DefaultHttpContent(part));
        assertThat(part.refCnt()).isZero();
        assertThat(clientChannel.isOpen()).isFalse();
    }

    @Test
    void aResponseHeadOfAWholeResponseArrivingLateIsReleased() {
        Exchange x = start(HttpMethod.GET);
        x.on(Event.CLOSE, null);
        FullHttpResponse late = ok("x");
        x.on(Event.RESPONSE_HEAD, late); // not a completion: a bug, refused (its buffer released)
        assertThat(late.refCnt()).isZero();
    }

    // ---- body rewrite (Plan.BufferBody): BODY_CHUNK while BUFFERING, then BODY_REWRITTEN ----

    @Test
    void aBufferedBodyReplacedByTheRewriterGoesUpstreamWithAContentLength() {
        CompletableFuture<BodyRewriter.Result> rewrite = new CompletableFuture<>();
        List<String> seen = new ArrayList<>();
        plan = new Plan.BufferBody(7, (head, body) -> {
            seen.add(body.toString(StandardCharsets.US_ASCII));
            return rewrite;
        }, null);
        Exchange x = start(request(HttpMethod.POST, "Transfer-Encoding", "chunked"));
        assertThat(x.state()).isEqualTo(State.BUFFERING);
        assertThat(client.reads).isEqualTo(1);
        HttpContent first = part("a=b");
        x.on(Event.BODY_CHUNK, first);
        assertThat(client.reads).isEqualTo(2); // the next part
        LastHttpContent end = lastPart("&c=d"); // exactly maxBytes in all: still buffered
        x.on(Event.BODY_CHUNK, end);
        assertThat(x.state()).isEqualTo(State.PLANNING);
        assertThat(seen).containsExactly("a=b&c=d");
        assertThat(client.idle).isSameAs(upstream); // no connection asked for before the rewrite
        assertThat(upstreamChannel.outboundMessages()).isEmpty();

        rewrite.complete(new BodyRewriter.Result.Replace("x=1".getBytes(StandardCharsets.US_ASCII)));
        clientChannel.runPendingTasks();
        assertThat(x.state()).isEqualTo(State.FORWARDING);
        assertThat(first.refCnt()).isZero(); // the buffered original is released once replaced
        assertThat(end.refCnt()).isZero();
        HttpRequest sent = upstreamChannel.readOutbound();
        assertThat(sent.method()).isEqualTo(HttpMethod.POST);
        assertThat(sent.headers().get("Content-Length")).isEqualTo("3");
        assertThat(sent.headers().contains("Transfer-Encoding")).isFalse();
        LastHttpContent body = upstreamChannel.readOutbound();
        assertThat(body.content().toString(StandardCharsets.US_ASCII)).isEqualTo("x=1");
        body.release();
        assertThat((Object) upstreamChannel.readOutbound()).isNull();

        upstreamChannel.writeInbound(ok("done"));
        assertThat(x.state()).isEqualTo(State.DONE);
        FullHttpResponse relayed = (FullHttpResponse) written();
        assertThat(relayed.content().toString(StandardCharsets.US_ASCII)).isEqualTo("done");
        relayed.release();
        assertThat(clientChannel.isOpen()).isTrue();
    }

    @Test
    void aRewriterReplyIsAnsweredLocallyAndNothingGoesUpstream() {
        plan = new Plan.BufferBody(64, (head, body) -> CompletableFuture.completedFuture(
                new BodyRewriter.Result.Reply(answer(HttpResponseStatus.BAD_REQUEST, "invalid_request"))), null);
        Exchange x = start(request(HttpMethod.POST, "Content-Length", "3"));
        x.on(Event.BODY_CHUNK, lastPart("a=b"));
        assertThat(x.state()).isEqualTo(State.PLANNING); // the completion runs as its own task
        clientChannel.runPendingTasks();
        assertThat(x.state()).isEqualTo(State.DONE);
        FullHttpResponse r = (FullHttpResponse) written();
        assertThat(r.status().code()).isEqualTo(400);
        assertThat(r.content().toString(StandardCharsets.US_ASCII)).isEqualTo("invalid_request");
        r.release();
        assertThat(clientChannel.outboundMessages()).isEmpty();
        assertThat(upstreamChannel.outboundMessages()).isEmpty();
        assertThat(client.idle).isSameAs(upstream);
        assertThat(client.acquires).isZero();
        assertThat(clientChannel.isOpen()).isTrue(); // the whole body was read: the connection stays
    }

    @Test
    void aBodyOverMaxBytesIsA413WithoutRewriteAndClosesTheClient() {
        AtomicLong rewrites = new AtomicLong();
        plan = new Plan.BufferBody(4, (head, body) -> {
            rewrites.incrementAndGet();
            return CompletableFuture.completedFuture(BodyRewriter.UNCHANGED);
        }, null);
        Exchange x = start(request(HttpMethod.POST, "Content-Length", "9"));
        HttpContent tooMuch = part("a=bc");
        x.on(Event.BODY_CHUNK, tooMuch); // exactly maxBytes: kept
        assertThat(x.state()).isEqualTo(State.BUFFERING);
        HttpContent over = part("d");
        x.on(Event.BODY_CHUNK, over);
        assertThat(over.refCnt()).isZero();
        assertThat(tooMuch.refCnt()).isZero();
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(written().status().code()).isEqualTo(413);
        assertThat(clientChannel.isOpen()).isFalse(); // the rest of the body is not read
        clientChannel.runPendingTasks();
        assertThat(rewrites.get()).isZero();
        assertThat(upstreamChannel.outboundMessages()).isEmpty();
        assertThat(client.idle).isSameAs(upstream);
    }

    // ---- captured response body (ResponseTap): CAPTURING, RESPONSE_CHUNK, CAPTURED ----

    /** Captures up to {@code cap} bytes; {@link #kept} decides the outcome of its onBody. */
    private static final class CapturingTap implements ResponseTap {
        final CompletableFuture<Void> kept = new CompletableFuture<>();
        final List<String> bodies = new ArrayList<>();

        @Override
        public int onHead(HttpResponse head) {
            return 64;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            bodies.add(body.toString(StandardCharsets.US_ASCII));
            return kept;
        }
    }

    private Exchange capturing(CapturingTap tap) {
        plan = new Plan.Forward(tap);
        Exchange x = start(HttpMethod.GET);
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CREATED);
        head.headers().set("Transfer-Encoding", "chunked");
        x.on(Event.RESPONSE_HEAD, head);
        assertThat(x.state()).isEqualTo(State.CAPTURING);
        x.on(Event.RESPONSE_CHUNK, part("abc"));
        x.on(Event.UPSTREAM_READ_COMPLETE, null);
        x.on(Event.RESPONSE_CHUNK, lastPart("def"));
        x.on(Event.UPSTREAM_READ_COMPLETE, null);
        assertThat(tap.bodies).containsExactly("abcdef");
        assertThat(x.state()).isEqualTo(State.CAPTURING); // until the tap is done
        assertThat(clientChannel.outboundMessages()).isEmpty(); // nothing relayed meanwhile
        return x;
    }

    @Test
    void aCapturedBodyIsRelayedWholeWithAContentLengthOnceTheTapKeptIt() {
        CapturingTap tap = new CapturingTap();
        Exchange x = capturing(tap);
        tap.kept.complete(null);
        clientChannel.runPendingTasks();
        assertThat(x.state()).isEqualTo(State.DONE);
        HttpResponse head = written();
        assertThat(head).isNotInstanceOf(FullHttpResponse.class);
        assertThat(head.status().code()).isEqualTo(201);
        assertThat(head.headers().get("Content-Length")).isEqualTo("6");
        assertThat(head.headers().contains("Transfer-Encoding")).isFalse();
        assertThat(writtenText()).isEqualTo("abcdef");
        assertThat(clientChannel.outboundMessages()).isEmpty();
        assertThat(clientChannel.isOpen()).isTrue();
    }

    @Test
    void aTapThatFailsToKeepTheCaptureIsA502() {
        watch.allow("could not keep a captured response");
        CapturingTap tap = new CapturingTap();
        Exchange x = capturing(tap);
        tap.kept.completeExceptionally(new IllegalStateException("store down"));
        clientChannel.runPendingTasks();
        assertThat(x.state()).isEqualTo(State.DONE);
        FullHttpResponse r = (FullHttpResponse) written();
        assertThat(r.status().code()).isEqualTo(502);
        assertThat(r.content().toString(StandardCharsets.US_ASCII)).doesNotContain("abcdef");
        r.release();
        assertThat(clientChannel.outboundMessages()).isEmpty(); // the 201 never went out
    }

    // ---- the IdP's endpoints not known yet: PLANNING, ENDPOINTS ----

    @Test
    void aRequestHeldForTheEndpointsIsClassifiedAgainAndForwardedWhenTheyAreKnown() {
        endpoints = new CompletableFuture<>();
        classifyAs = RouteKind.METADATA;
        Exchange x = start(HttpMethod.GET);
        assertThat(x.state()).isEqualTo(State.PLANNING);
        assertThat(planned).isEmpty();
        assertThat(client.reads).isZero(); // held: its (empty) body not read
        assertThat(client.idle).isSameAs(upstream);
        assertThat(upstreamChannel.outboundMessages()).isEmpty();

        endpoints.complete(true);
        clientChannel.runPendingTasks();
        assertThat(planned).containsExactly(RouteKind.METADATA); // classified again
        assertThat(x.state()).isEqualTo(State.FORWARDING);
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        x.flushUpstream();
        HttpRequest sent = upstreamChannel.readOutbound();
        assertThat(sent.method()).isEqualTo(HttpMethod.GET);
        assertThat(sent.uri()).isEqualTo("/x");
        upstreamChannel.writeInbound(ok("meta"));
        assertThat(x.state()).isEqualTo(State.DONE);
        FullHttpResponse relayed = (FullHttpResponse) written();
        assertThat(relayed.content().toString(StandardCharsets.US_ASCII)).isEqualTo("meta");
        relayed.release();
    }

    @Test
    void endpointsThatStayUnknownAreA503WithRetryAfter() {
        endpoints = new CompletableFuture<>();
        Exchange x = start(HttpMethod.GET);
        endpoints.complete(false);
        clientChannel.runPendingTasks();
        assertThat(x.state()).isEqualTo(State.ANSWERED); // its empty end still to read
        FullHttpResponse r = (FullHttpResponse) written();
        assertThat(r.status().code()).isEqualTo(503);
        assertThat(r.headers().get("Retry-After")).isEqualTo("5");
        r.release();
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(planned).isEmpty();
        assertThat(client.idle).isSameAs(upstream);
        assertThat(upstreamChannel.outboundMessages()).isEmpty();
    }

    // ---- writability: UPSTREAM_WRITABLE, CLIENT_WRITABLE ----

    @Test
    void aStreamedBodyIsReadOnOnlyOnceTheUpstreamIsWritableAgain() {
        Exchange x = start(request(HttpMethod.POST, "Content-Length", "6"));
        assertThat(x.state()).isEqualTo(State.FORWARDING);
        assertThat(client.reads).isEqualTo(1); // the first part
        upstreamChannel.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        x.on(Event.BODY_CHUNK, part("abc"));
        x.flushUpstream();
        assertThat(client.reads).isEqualTo(1); // no next part while the upstream is full
        upstreamChannel.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        upstreamChannel.runPendingTasks(); // the writability change, to the connection: UPSTREAM_WRITABLE
        assertThat(client.reads).isEqualTo(2);
        x.on(Event.UPSTREAM_WRITABLE, null); // not waiting any more: no second read
        assertThat(client.reads).isEqualTo(2);
        x.on(Event.BODY_CHUNK, lastPart("def"));
        x.flushUpstream();

        HttpRequest sent = upstreamChannel.readOutbound();
        assertThat(sent.headers().get("Content-Length")).isEqualTo("6");
        HttpContent p1 = upstreamChannel.readOutbound();
        assertThat(p1.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
        p1.release();
        LastHttpContent p2 = upstreamChannel.readOutbound();
        assertThat(p2.content().toString(StandardCharsets.US_ASCII)).isEqualTo("def");
        p2.release();
        upstreamChannel.writeInbound(ok("ok"));
        assertThat(x.state()).isEqualTo(State.DONE);
        ((FullHttpResponse) written()).release();
    }

    @Test
    void aClientNotAcceptingWritesStopsTheUpstreamReadsUntilItIsWritableAgain() {
        ReadCounter upstreamReads = new ReadCounter();
        upstreamChannel.pipeline().addFirst(upstreamReads);
        Exchange x = start(HttpMethod.GET);
        x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
        int before = upstreamReads.reads;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set("Content-Length", 6);
        x.on(Event.RESPONSE_HEAD, head);
        assertThat(upstreamReads.reads).isEqualTo(before + 1);

        clientChannel.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        x.on(Event.RESPONSE_CHUNK, part("abc"));
        x.on(Event.UPSTREAM_READ_COMPLETE, null);
        assertThat(upstreamReads.reads).isEqualTo(before + 1); // not read while the client is full
        assertThat(x.deadline()).isZero(); // nor its silence held against it
        clientChannel.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        x.on(Event.CLIENT_WRITABLE, null);
        assertThat(upstreamReads.reads).isEqualTo(before + 2);
        assertThat(x.deadline()).isEqualTo(now.get() + TimeUnit.MILLISECONDS.toNanos(2_000));

        x.on(Event.RESPONSE_CHUNK, lastPart("def"));
        assertThat(x.state()).isEqualTo(State.DONE);
        assertThat(written().headers().get("Content-Length")).isEqualTo("6");
        assertThat(writtenText()).isEqualTo("abc");
        assertThat(writtenText()).isEqualTo("def");
    }

    // ---- retry: ERROR (RESET) before any response head ----

    @Test
    void aResetOfAReusedConnectionBeforeTheHeadIsRetriedOnceOnANewOne() {
        EmbeddedChannel secondChannel = new EmbeddedChannel();
        try {
            client.fresh.add(TestConnections.on(secondChannel));
            servedBefore(upstream);
            Exchange x = start(HttpMethod.GET);
            x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
            x.flushUpstream();
            assertThat(upstreamChannel.outboundMessages()).hasSize(1);
            upstreamChannel.close(); // the stale connection: RESET, no head
            assertThat(client.acquires).isEqualTo(1);
            assertThat(x.state()).isEqualTo(State.FORWARDING);
            assertThat(clientChannel.outboundMessages()).isEmpty();
            HttpRequest again = secondChannel.readOutbound();
            assertThat(again.method()).isEqualTo(HttpMethod.GET);
            assertThat(again.uri()).isEqualTo("/x");
            assertThat(again.headers().getAll("X-Forwarded-For")).containsExactly("192.0.2.1"); // prepared once
            assertThat((Object) secondChannel.readOutbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
            assertThat((Object) secondChannel.readOutbound()).isNull();

            secondChannel.writeInbound(ok("second"));
            assertThat(x.state()).isEqualTo(State.DONE);
            FullHttpResponse relayed = (FullHttpResponse) written();
            assertThat(relayed.status().code()).isEqualTo(200);
            assertThat(relayed.content().toString(StandardCharsets.US_ASCII)).isEqualTo("second");
            relayed.release();
            assertThat(clientChannel.outboundMessages()).isEmpty();
        } finally {
            secondChannel.finishAndReleaseAll();
        }
    }

    @Test
    void aSecondResetAfterTheRetryIsA502() {
        EmbeddedChannel secondChannel = new EmbeddedChannel();
        try {
            client.fresh.add(servedBefore(TestConnections.on(secondChannel))); // reused too: only "retried" stops it
            servedBefore(upstream);
            Exchange x = start(HttpMethod.GET);
            x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
            upstreamChannel.close();
            assertThat(secondChannel.outboundMessages()).hasSize(2); // retried
            secondChannel.close();
            assertThat(client.acquires).isEqualTo(1); // not a third attempt
            assertThat(x.state()).isEqualTo(State.DONE);
            assertThat(written().status().code()).isEqualTo(502);
            assertThat(clientChannel.outboundMessages()).isEmpty();
        } finally {
            secondChannel.finishAndReleaseAll();
        }
    }

    @Test
    void aResetOfAReusedConnectionForAPostIsA502WithoutRetry() {
        EmbeddedChannel secondChannel = new EmbeddedChannel();
        try {
            client.fresh.add(TestConnections.on(secondChannel));
            servedBefore(upstream);
            Exchange x = start(HttpMethod.POST); // no body: only the method stops the retry
            x.on(Event.BODY_CHUNK, LastHttpContent.EMPTY_LAST_CONTENT);
            upstreamChannel.close();
            assertThat(client.acquires).isZero();
            assertThat(secondChannel.outboundMessages()).isEmpty();
            assertThat(x.state()).isEqualTo(State.DONE);
            assertThat(written().status().code()).isEqualTo(502);
        } finally {
            secondChannel.finishAndReleaseAll();
        }
    }

    @Test
    void theTableAllowsEachEventOnlyWhereItCanHappen() {
        assertThat(Exchange.isLegal(State.NEW, Event.REQUEST_HEAD)).isTrue();
        assertThat(Exchange.isLegal(State.FORWARDING, Event.REQUEST_HEAD)).isFalse();
        assertThat(Exchange.isLegal(State.PLANNING, Event.BODY_CHUNK)).isFalse();
        assertThat(Exchange.isLegal(State.FORWARDING, Event.RESPONSE_CHUNK)).isFalse();
        assertThat(Exchange.isLegal(State.RELAYING, Event.RESPONSE_HEAD)).isFalse();
        for (Event e : Event.values()) {
            assertThat(Exchange.isLegal(State.DONE, e)).as(e.name()).isFalse();
        }
    }
}
