package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** Either side ending an exchange early, and idle client connections. */
@Timeout(20)
class ConnectionLifecycleTest {

    private TestUpstream upstream;
    private GatewayFixture gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = TestUpstream.start();
        gateway = GatewayFixture.builder(upstream.port()).clientIdleTimeout(Duration.ofMillis(400)).start();
    }

    @AfterEach
    void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void upstreamAnsweringBeforeTheBodyEndsIsRelayedAndTheClientClosed() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("POST /early HTTP/1.1\r\nHost: client.example\r\nContent-Length: 10000000\r\n\r\n");
            byte[] block = new byte[8192];
            Arrays.fill(block, (byte) 'x');
            c.send(block);
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(413);
            assertThat(r.bodyText()).isEqualTo("early");
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertFreshConnectionWorks();
    }

    @Test
    void clientLeavingMidUploadDropsTheUpstreamConnection() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("POST /count HTTP/1.1\r\nHost: client.example\r\nContent-Length: 10000000\r\n\r\n");
            c.send(new byte[1 << 20]);
            while (upstream.requestHeads() == 0) { // the upstream exchange is under way
                Thread.sleep(5);
            }
        }
        // a half-sent request cannot be finished: the gateway must close that connection, not pool it
        while (upstream.cutRequests() == 0) {
            Thread.sleep(5);
        }
        awaitNoExchange();
        assertFreshConnectionWorks();
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/fresh");
    }

    @Test
    void clientLeavingMidDownloadDropsTheUpstreamConnection() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /large?n=" + (1L << 30) + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            byte[] some = new byte[100_000];
            int n = 0;
            while (n < some.length) {
                n += c.readSomeBody(some, n, some.length - n);
            }
        }
        while (upstream.cutResponses() == 0) { // the upstream stops sending: its connection was closed
            Thread.sleep(5);
        }
        awaitNoExchange();
        assertFreshConnectionWorks();
    }

    @Test
    void idleKeepAliveConnectionIsClosedButASlowExchangeIsNot() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /gated HTTP/1.1\r\nHost: client.example\r\n\r\n");
            upstream.takeReceived();
            // longer than the idle timeout with nothing moving: the exchange in flight survives
            Thread.sleep(1000);
            upstream.openGate();
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            // now idle between requests: closed
            c.timeout(5000);
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void pipelinedRequestAfterConnectionCloseIsNotAnswered() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/1 HTTP/1.1\r\nHost: client.example\r\nConnection: close\r\n\r\n"
                    + "GET /echo/2 HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/1");
            assertThat(new String(c.readToEnd(), StandardCharsets.ISO_8859_1)).isEmpty();
        }
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/1");
        assertThat(upstream.pendingReceived()).isZero();
    }

    @Test
    void pipelineContinuesAfterAnUpstreamError() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /garbage HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "GET /echo/2 HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(502);
            assertThat(c.read().header("X-Echo-Uri")).isEqualTo("/echo/2");
        }
    }

    private void awaitNoExchange() throws InterruptedException {
        while (gateway.lifecycle().inFlight() > 0) {
            Thread.sleep(5);
        }
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
