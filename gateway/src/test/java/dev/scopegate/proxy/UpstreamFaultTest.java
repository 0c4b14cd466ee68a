package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.EOFException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Upstream failures become 502/504 (or a cut connection once the response started). */
@Timeout(20)
class UpstreamFaultTest {

    private static final long RESPONSE_TIMEOUT_MILLIS = 500;

    private TestUpstream upstream;
    private int deadPort;
    private GatewayFixture gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = TestUpstream.start();
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // closed again: connecting to it is refused
        }
        gateway = GatewayFixture.start(GatewayFixture.settings(upstream.port(), RESPONSE_TIMEOUT_MILLIS, false,
                List.of(GatewayFixture.target("/dead", deadPort, false, true))));
    }

    @AfterEach
    void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void refusedUpstreamIs502() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /dead/x HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.header("Content-Type")).startsWith("text/plain");
            assertStillServes(c);
        }
        assertFreshConnectionWorks();
    }

    @Test
    void refusedUpstreamWithARequestBodyIs502() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("POST /dead/x HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5\r\n\r\nhello");
            assertThat(c.read().status()).isEqualTo(502);
        }
        assertFreshConnectionWorks();
    }

    @Test
    void upstreamResetBeforeRespondingIs502() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /reset HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(502);
            assertStillServes(c);
        }
        assertFreshConnectionWorks();
    }

    @Test
    void upstreamResetOnAReusedConnectionIs502AfterOneRetry() throws Exception {
        try (RawConnection c = gateway.connect()) {
            assertStillServes(c); // leaves a pooled connection behind
            c.send("GET /reset HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(502);
            assertStillServes(c);
        }
        assertFreshConnectionWorks();
    }

    @Test
    void hangingUpstreamIs504AfterTheResponseTimeout() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /hang HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(504);
            assertStillServes(c);
        }
        assertFreshConnectionWorks();
    }

    @Test
    void garbageResponseIs502() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /garbage HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(502);
            assertStillServes(c);
        }
        assertFreshConnectionWorks();
    }

    /**
     * An upstream that answers one request twice: the extra response must never become the answer
     * to another request, not even to the next one pipelined on the same client connection (the
     * upstream connection goes back to the pool only once its read is over, and is closed when
     * anything came after the response).
     */
    @Test
    void anUnsolicitedSecondResponseNeverAnswersTheNextRequest() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /twice HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "GET /next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response first = c.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.bodyText()).isEqualTo("ok");
            RawConnection.Response second = c.read();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.bodyText()).doesNotContain("unsolicited");
            assertThat(second.header("X-Echo-Uri")).isEqualTo("/next");
            c.send("GET /twice HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().bodyText()).isEqualTo("ok");
            c.send("GET /after HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response after = c.read();
            assertThat(after.bodyText()).doesNotContain("unsolicited");
            assertThat(after.header("X-Echo-Uri")).isEqualTo("/after");
        }
        assertFreshConnectionWorks();
    }

    @Test
    void resetMidBodyCutsTheClientConnection() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /reset-mid HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(TestUpstream.RESET_MID_LENGTH);
            long[] got = {0};
            List<RawConnection.Header> trailers = new ArrayList<>();
            // some of the body is relayed before the upstream resets ...
            byte[] first = new byte[1000];
            int n = 0;
            while (n < first.length) {
                int r = c.readSomeBody(first, n, first.length - n);
                assertThat(r).isPositive();
                n += r;
            }
            assertThat(BodyPattern.matches(0, first, 0, n)).isTrue();
            upstream.openGate();
            // ... and then the client sees the connection end before the announced length
            assertThatThrownBy(() -> c.readBody(head, false, (b, off, len) -> got[0] += len, trailers))
                    .isInstanceOf(EOFException.class);
            assertThat(first.length + got[0]).isLessThan(TestUpstream.RESET_MID_LENGTH);
        }
        assertFreshConnectionWorks();
    }

    @Test
    void resetMidChunkedBodyCutsTheClientConnectionWithoutALastChunk() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /reset-mid?chunked HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.chunked()).isTrue();
            upstream.openGate();
            long[] got = {0};
            assertThatThrownBy(() -> c.readBody(head, false, (b, off, len) -> got[0] += len, new ArrayList<>()))
                    .isInstanceOf(EOFException.class);
            assertThat(got[0]).isLessThanOrEqualTo(TestUpstream.RESET_MID_SENT);
        }
        assertFreshConnectionWorks();
    }

    @Test
    void exhaustedPoolIs503AfterTheAcquireTimeout() throws Exception {
        try (GatewayFixture small = GatewayFixture.builder(upstream.port()).upstreamMaxConnections(2).start()) {
            // one upstream connection per event loop; four clients land two per loop
            RawConnection[] clients = new RawConnection[4];
            for (int i = 0; i < clients.length; i++) {
                clients[i] = small.connect();
                clients[i].send("GET /gated HTTP/1.1\r\nHost: client.example\r\n\r\n");
            }
            int ok = 0;
            int busy = 0;
            try {
                while (upstream.requestHeads() < 2) {
                    Thread.sleep(5);
                }
                // the two waiting for a connection give up after the acquire timeout ...
                for (RawConnection c : clients) {
                    c.timeout(200);
                }
                long deadline = System.nanoTime() + 10_000_000_000L;
                boolean[] answered = new boolean[clients.length];
                while (busy < 2 && System.nanoTime() < deadline) {
                    for (int i = 0; i < clients.length; i++) {
                        if (!answered[i]) {
                            try {
                                assertThat(clients[i].read().status()).isEqualTo(503);
                                answered[i] = true;
                                busy++;
                            } catch (java.net.SocketTimeoutException stillWaiting) {
                                // keep polling
                            }
                        }
                    }
                }
                assertThat(busy).isEqualTo(2);
                // ... and the two holding one finish once the upstream answers
                upstream.openGate();
                for (int i = 0; i < clients.length; i++) {
                    if (!answered[i]) {
                        clients[i].timeout(5000);
                        assertThat(clients[i].read().status()).isEqualTo(200);
                        ok++;
                    }
                }
            } finally {
                for (RawConnection c : clients) {
                    c.close();
                }
            }
            assertThat(ok).isEqualTo(2);
            try (RawConnection c = small.connect()) {
                c.send("GET /echo/after HTTP/1.1\r\nHost: client.example\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
            }
        }
    }

    private void assertStillServes(RawConnection c) throws Exception {
        c.send("GET /echo/same HTTP/1.1\r\nHost: client.example\r\n\r\n");
        RawConnection.Response r = c.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/same");
    }

    private void assertFreshConnectionWorks() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/fresh HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/fresh");
        }
    }
}
