package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/** Connection reuse on both sides, pipelining, and stale pooled connections. */
@Timeout(20)
class KeepAliveTest {

    private TestUpstream upstream;
    private GatewayFixture gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = TestUpstream.start();
        gateway = GatewayFixture.start(upstream.port());
    }

    @AfterEach
    void stop() {
        gateway.close();
        upstream.close();
    }

    @Test
    void fiftySequentialRequestsShareUpstreamConnections() throws Exception {
        try (RawConnection c = gateway.connect()) {
            for (int i = 0; i < 50; i++) {
                String body = "request-" + i;
                c.send("POST /echo/" + i + " HTTP/1.1\r\nHost: client.example\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body);
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo(body);
                assertThat(r.header("Connection")).isNull();
            }
        }
        assertThat(upstream.acceptedConnections()).isBetween(1, 2);
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/1 HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "POST /echo/2 HTTP/1.1\r\nHost: client.example\r\nContent-Length: 6\r\n\r\nsecond"
                    + "GET /slow?ms=50 HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "HEAD /large?n=1000 HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "GET /echo/5 HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response first = c.read();
            RawConnection.Response second = c.read();
            RawConnection.Response third = c.read();
            RawConnection.Response fourth = c.read(true);
            RawConnection.Response fifth = c.read();

            assertThat(first.header("X-Echo-Uri")).isEqualTo("/echo/1");
            assertThat(second.header("X-Echo-Uri")).isEqualTo("/echo/2");
            assertThat(second.bodyText()).isEqualTo("second");
            assertThat(third.header("X-Echo-Uri")).isEqualTo("/slow?ms=50");
            assertThat(fourth.head().contentLength()).isEqualTo(1000);
            assertThat(fourth.body()).isEmpty();
            assertThat(fifth.header("X-Echo-Uri")).isEqualTo("/echo/5");
        }
    }

    @Test
    void aPooledConnectionTheUpstreamClosedIsNotFatal() throws Exception {
        upstream.closeAfterEachResponse(true);
        try (RawConnection c = gateway.connect()) {
            for (int i = 0; i < 10; i++) {
                c.send("GET /echo/" + i + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
                RawConnection.Response r = c.read();
                assertThat(r.status()).as("request %d", i).isEqualTo(200);
                assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/" + i);
            }
            // back to back, so the gateway may pick a connection whose close it has not seen yet
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                burst.append("GET /echo/burst").append(i).append(" HTTP/1.1\r\nHost: client.example\r\n\r\n");
            }
            c.send(burst.toString());
            for (int i = 0; i < 5; i++) {
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/burst" + i);
            }
        }
        assertThat(upstream.acceptedConnections()).isEqualTo(15);
    }

    @Test
    void anIdempotentRequestOnAStaleConnectionIsRetriedOnce() throws Exception {
        upstream.oneRequestPerConnection(true);
        try (RawConnection c = gateway.connect()) {
            for (int i = 0; i < 3; i++) {
                c.send("GET /echo/" + i + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
                RawConnection.Response r = c.read();
                assertThat(r.status()).as("request %d", i).isEqualTo(200);
                assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/" + i);
            }
        }
        assertThat(upstream.acceptedConnections()).isEqualTo(3);
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/0");
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/1");
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/2");
    }

    @Test
    void aNonIdempotentRequestOnAStaleConnectionIsNotRetried() throws Exception {
        upstream.oneRequestPerConnection(true);
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/first HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("POST /echo/second HTTP/1.1\r\nHost: client.example\r\nContent-Length: 2\r\n\r\nhi");
            assertThat(c.read().status()).isEqualTo(502);
        }
        assertThat(upstream.acceptedConnections()).isEqualTo(1);
    }

    @Test
    void connectionCloseFromTheClientIsHonoured() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\nHost: client.example\r\nConnection: close\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByPeer()).isTrue();
        }
    }
}
