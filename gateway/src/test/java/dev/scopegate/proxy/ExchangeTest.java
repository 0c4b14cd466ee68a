package dev.scopegate.proxy;

import dev.scopegate.metrics.ProxyMetrics;
import dev.scopegate.proxy.Exchange.Event;
import dev.scopegate.proxy.Exchange.State;
import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.RequestRouter;
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
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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

    private final class Router implements RequestRouter {
        @Override
        public RouteKind classify(HttpMethod method, String path) {
            return RouteKind.PASS_THROUGH;
        }

        @Override
        public Plan plan(HttpRequest request, String path, RouteKind kind) {
            return plan;
        }
    }

    private final class FakeClient implements Exchange.Client {
        int reads;
        long endedAt = -1;
        UpstreamConnection idle = upstream;

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
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "/x");
        request.headers().set("Host", "gw");
        Exchange x = new Exchange(shared, client, request, "/x", RouteKind.PASS_THROUGH, IDP, SETTINGS, true);
        x.on(Event.REQUEST_HEAD, request);
        return x;
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
