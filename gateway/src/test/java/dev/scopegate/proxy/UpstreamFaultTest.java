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
