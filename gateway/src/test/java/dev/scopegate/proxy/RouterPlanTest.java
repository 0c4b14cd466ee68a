package dev.scopegate.proxy;

import dev.scopegate.proxy.route.BodyRewriter;
import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.RequestRouter;
import dev.scopegate.proxy.route.ResponseTap;
import dev.scopegate.proxy.route.RouteKind;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The plans a router can return (answer, buffer and rewrite, defer, capture) run end to end. */
@Timeout(20)
class RouterPlanTest {

    /** A router whose plan each test sets. */
    static final class ScriptedRouter implements RequestRouter {
        volatile Function<HttpRequest, Plan> planner = r -> Plan.FORWARD;

        @Override
        public RouteKind classify(HttpMethod method, String path) {
            return RouteKind.PASS_THROUGH;
        }

        @Override
        public Plan plan(HttpRequest request, String path, RouteKind kind) {
            return planner.apply(request);
        }
    }

    private TestUpstream upstream;
    private GatewayFixture gateway;
    private final ScriptedRouter router = new ScriptedRouter();

    @BeforeEach
    void start() throws Exception {
        upstream = TestUpstream.start();
        gateway = GatewayFixture.start(upstream.port(), router);
    }

    @AfterEach
    void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void respondAnswersLocallyAndKeepsTheConnection() throws Exception {
        router.planner = r -> r.uri().startsWith("/local")
                ? new Plan.Respond(ErrorResponder.response(HttpResponseStatus.FORBIDDEN, "no")) : Plan.FORWARD;
        try (RawConnection c = gateway.connect()) {
            c.send("GET /local HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.bodyText()).isEqualTo("no\n");
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().header("X-Echo-Uri")).isEqualTo("/echo/next");
        }
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/next");
    }

    @Test
    void respondToARequestWithABodyClosesTheConnection() throws Exception {
        router.planner = r -> new Plan.Respond(ErrorResponder.response(HttpResponseStatus.FORBIDDEN, "no"));
        try (RawConnection c = gateway.connect()) {
            c.send("POST /local HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5\r\n\r\nhello");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void bufferedBodyForwardedUnchanged() throws Exception {
        AtomicReference<String> seen = new AtomicReference<>();
        router.planner = r -> new Plan.BufferBody(1024, (head, body) -> {
            seen.set(body.toString(StandardCharsets.US_ASCII));
            return CompletableFuture.completedFuture(BodyRewriter.UNCHANGED);
        }, null);
        try (RawConnection c = gateway.connect()) {
            for (int i = 0; i < 2; i++) {
                c.send("POST /echo/form HTTP/1.1\r\nHost: client.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: 7\r\n\r\na=1&b=2");
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo("a=1&b=2");
            }
        }
        assertThat(seen.get()).isEqualTo("a=1&b=2");
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.bodyText()).isEqualTo("a=1&b=2");
        assertThat(got.first("Content-Length")).isEqualTo("7");
    }

    @Test
    void bufferedChunkedBodyReplacedAsynchronously() throws Exception {
        router.planner = r -> new Plan.BufferBody(1024, (head, body) -> CompletableFuture.supplyAsync(
                () -> new BodyRewriter.Result.Replace("a=1&b=2&scope=openid".getBytes(StandardCharsets.US_ASCII))), null);
        try (RawConnection c = gateway.connect()) {
            c.send("POST /echo/form HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("a=1&b=2&scope=openid");
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.bodyText()).isEqualTo("a=1&b=2&scope=openid");
        assertThat(got.first("Content-Length")).isEqualTo("20");
        assertThat(got.all("Transfer-Encoding")).isEmpty();
    }

    @Test
    void bufferedBodyAnsweredLocally() throws Exception {
        router.planner = r -> !r.uri().equals("/echo/form") ? Plan.FORWARD : new Plan.BufferBody(1024, (head, body) ->
                CompletableFuture.completedFuture(new BodyRewriter.Result.Reply(
                        ErrorResponder.response(HttpResponseStatus.BAD_REQUEST, "invalid_scope"))), null);
        try (RawConnection c = gateway.connect()) {
            c.send("POST /echo/form HTTP/1.1\r\nHost: client.example\r\nContent-Length: 3\r\n\r\na=1");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.bodyText()).isEqualTo("invalid_scope\n");
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/next");
    }

    @Test
    void bufferedBodyOverTheCapIs413() throws Exception {
        router.planner = r -> new Plan.BufferBody(10, (head, body) -> CompletableFuture.completedFuture(BodyRewriter.UNCHANGED), null);
        try (RawConnection c = gateway.connect()) {
            c.send("POST /echo/form HTTP/1.1\r\nHost: client.example\r\nContent-Length: 100\r\n\r\n" + "x".repeat(100));
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(upstream.pendingReceived()).isZero();
    }

    @Test
    void clientLeavingWhileTheRewriterRunsReleasesTheBodyOnce() throws Exception {
        CompletableFuture<BodyRewriter.Result> pending = new CompletableFuture<>();
        AtomicReference<ByteBuf> seen = new AtomicReference<>();
        router.planner = r -> new Plan.BufferBody(1024, (head, body) -> {
            seen.set(body);
            return pending;
        }, null);
        try (RawConnection c = gateway.connect()) {
            c.send("POST /echo/form HTTP/1.1\r\nHost: client.example\r\nContent-Length: 3\r\n\r\na=1");
            while (seen.get() == null) {
                Thread.sleep(5);
            }
        }
        while (gateway.lifecycle().inFlight() > 0) { // the client is gone: the exchange ends
            Thread.sleep(5);
        }
        pending.complete(BodyRewriter.UNCHANGED);
        while (seen.get().refCnt() > 0) { // released by the completion, on the event loop
            Thread.sleep(5);
        }
        assertFreshConnectionWorks();
        // a second release would have failed on the event loop, and the fixture reports that
    }

    @Test
    void deferredPlanCompletingElsewhere() throws Exception {
        router.planner = r -> new Plan.Defer(CompletableFuture.supplyAsync(() -> Plan.FORWARD));
        try (RawConnection c = gateway.connect()) {
            for (int i = 0; i < 3; i++) {
                c.send("POST /echo/deferred HTTP/1.1\r\nHost: client.example\r\nContent-Length: 4\r\n\r\nbody");
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo("body");
            }
        }
    }

    @Test
    void failedDeferredPlanIs500() throws Exception {
        gateway.expectLogged("deferred plan failed");
        router.planner = r -> new Plan.Defer(CompletableFuture.failedFuture(new IllegalStateException("store down")));
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(500);
            router.planner = r -> Plan.FORWARD;
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void routerThrowingIs500() throws Exception {
        gateway.expectLogged("router failed");
        router.planner = r -> {
            throw new IllegalStateException("bug");
        };
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(500);
        }
        router.planner = r -> Plan.FORWARD;
        assertFreshConnectionWorks();
    }

    @Test
    void capturedResponseIsRelayedUnchangedAfterTheTap() throws Exception {
        AtomicReference<String> captured = new AtomicReference<>();
        router.planner = r -> new Plan.Forward(new CapturingTap(1 << 20, body -> {
            captured.set(body);
            return CompletableFuture.runAsync(() -> { });
        }));
        try (RawConnection c = gateway.connect()) {
            c.send("POST /echo/register HTTP/1.1\r\nHost: client.example\r\nContent-Length: 16\r\n\r\n{\"client_id\":42}");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("{\"client_id\":42}");
            assertThat(r.header("Content-Length")).isEqualTo("16");

            c.send("GET /chunked HTTP/1.1\r\nHost: client.example\r\n\r\n");
            r = c.read();
            assertThat(r.bodyText()).isEqualTo("alpha-beta-gamma");
            assertThat(r.header("Content-Length")).isEqualTo("16");
        }
        assertThat(captured.get()).isEqualTo("alpha-beta-gamma");
    }

    @Test
    void responseOverTheCaptureCapIsRelayedWhole() throws Exception {
        AtomicBoolean overCap = new AtomicBoolean();
        router.planner = r -> new Plan.Forward(new CapturingTap(1000, body -> CompletableFuture.completedFuture(null)) {
            @Override
            public void onOverCap(HttpResponse head) {
                overCap.set(true);
            }
        });
        int n = 300_000;
        try (RawConnection c = gateway.connect()) {
            c.send("GET /large?n=" + n + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).hasSize(n);
            assertThat(BodyPattern.matches(0, r.body(), 0, n)).isTrue();
        }
        assertThat(overCap).isTrue();
    }

    @Test
    void failedCaptureIs502() throws Exception {
        gateway.expectLogged("could not keep a captured response");
        router.planner = r -> new Plan.Forward(new CapturingTap(1 << 20,
                body -> CompletableFuture.failedFuture(new IllegalStateException("disk full"))));
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/register HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(502);
            router.planner = r -> Plan.FORWARD;
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    private void assertFreshConnectionWorks() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/fresh HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    /** Captures up to {@code cap} bytes and hands them, as text, to {@code onBody}. */
    static class CapturingTap implements ResponseTap {
        private final int cap;
        private final Function<String, CompletionStage<Void>> onBody;

        CapturingTap(int cap, Function<String, CompletionStage<Void>> onBody) {
            this.cap = cap;
            this.onBody = onBody;
        }

        @Override
        public int onHead(HttpResponse head) {
            return cap;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            return onBody.apply(body.toString(StandardCharsets.UTF_8));
        }
    }
}
