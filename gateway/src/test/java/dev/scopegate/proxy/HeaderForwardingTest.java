package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Hop-by-hop headers stop at the gateway; X-Forwarded-* and Host are what the upstream needs. */
@Timeout(20)
class HeaderForwardingTest {

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
    void hopByHopRequestHeadersAreRemovedIncludingThoseNamedInConnection() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\n"
                    + "Host: client.example\r\n"
                    + "Connection: keep-alive, X-Hop-A, x-hop-b\r\n"
                    + "Connection: X-Hop-C\r\n"
                    + "X-Hop-A: 1\r\n"
                    + "X-Hop-B: 2\r\n"
                    + "X-Hop-C: 3\r\n"
                    + "Keep-Alive: timeout=5\r\n"
                    + "Proxy-Connection: keep-alive\r\n"
                    + "TE: trailers\r\n"
                    + "Upgrade: h2c\r\n"
                    + "X-End-To-End: kept\r\n"
                    + "\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestUpstream.Received got = upstream.takeReceived();
        for (String gone : List.of("Connection", "X-Hop-A", "X-Hop-B", "X-Hop-C", "Keep-Alive", "Proxy-Connection",
                "TE", "Upgrade", "Transfer-Encoding")) {
            assertThat(got.all(gone)).as(gone).isEmpty();
        }
        assertThat(got.all("X-End-To-End")).containsExactly("kept");
    }

    @Test
    void connectionCannotStripHostOrContentLength() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("POST /echo HTTP/1.1\r\nHost: client.example\r\nConnection: Host, Content-Length\r\n"
                    + "Content-Length: 5\r\n\r\nhello");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello");
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.first("Host")).isEqualTo("client.example");
        assertThat(got.bodyText()).isEqualTo("hello");
    }

    @Test
    void hopByHopResponseHeadersAreRemovedIncludingThoseNamedInConnection() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\n"
                    + "Host: client.example\r\n"
                    + "X-Reply-Header: Connection: X-Resp-Hop\r\n"
                    + "X-Reply-Header: X-Resp-Hop: secret\r\n"
                    + "X-Reply-Header: Keep-Alive: timeout=5, max=100\r\n"
                    + "X-Reply-Header: Proxy-Connection: keep-alive\r\n"
                    + "X-Reply-Header: Upgrade: websocket\r\n"
                    + "X-Reply-Header: X-Resp-Kept: yes\r\n"
                    + "\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            for (String gone : List.of("X-Resp-Hop", "Keep-Alive", "Proxy-Connection", "Upgrade")) {
                assertThat(r.head().all(gone)).as(gone).isEmpty();
            }
            assertThat(r.head().all("Connection")).doesNotContain("X-Resp-Hop");
            assertThat(r.header("X-Resp-Kept")).isEqualTo("yes");

            // the connection is still usable
            c.send("GET /echo/again HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().header("X-Echo-Uri")).isEqualTo("/echo/again");
        }
    }

    @Test
    void forwardedHeadersAreSetAndUntrustedOnesReplaced() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\n"
                    + "Host: client.example:8443\r\n"
                    + "X-Forwarded-For: 203.0.113.9\r\n"
                    + "X-Forwarded-Proto: https\r\n"
                    + "X-Forwarded-Host: evil.example\r\n"
                    + "\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.all("Host")).containsExactly("client.example:8443");
        assertThat(got.all("X-Forwarded-For")).containsExactly("127.0.0.1");
        assertThat(got.all("X-Forwarded-Proto")).containsExactly("http");
        assertThat(got.all("X-Forwarded-Host")).containsExactly("client.example:8443");
    }

    @Test
    void trustedProxyHeadersAreExtendedAndPublicValuesUsedOtherwise() throws Exception {
        ProxySettings trusting = new ProxySettings(GatewayFixture.target("/", upstream.port(), false, false), List.of(),
                GatewayFixture.DEFAULT_RESPONSE_TIMEOUT_MILLIS, List.of(dev.scopegate.config.Cidr.parse("127.0.0.0/8")),
                "https", "public.example", false, true);
        try (GatewayFixture g = GatewayFixture.start(trusting); RawConnection c = g.connect()) {
            c.send("GET /echo/1 HTTP/1.1\r\nHost: internal:8080\r\n"
                    + "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\n"
                    + "X-Forwarded-Proto: http\r\nX-Forwarded-Host: lb.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET /echo/2 HTTP/1.1\r\nHost: internal:8080\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestUpstream.Received relayed = upstream.takeReceived();
        assertThat(relayed.all("X-Forwarded-For")).containsExactly("203.0.113.9, 198.51.100.7, 127.0.0.1");
        assertThat(relayed.all("X-Forwarded-Proto")).containsExactly("http");
        assertThat(relayed.all("X-Forwarded-Host")).containsExactly("lb.example");
        TestUpstream.Received direct = upstream.takeReceived();
        assertThat(direct.all("X-Forwarded-For")).containsExactly("127.0.0.1");
        assertThat(direct.all("X-Forwarded-Proto")).containsExactly("https");
        assertThat(direct.all("X-Forwarded-Host")).containsExactly("public.example");
        assertThat(direct.all("Host")).containsExactly("internal:8080");
    }

    @Test
    void hostIsRewrittenWhenTheTargetSaysSo() throws Exception {
        try (GatewayFixture rewriting = GatewayFixture.start(GatewayFixture.settings(upstream.port(),
                GatewayFixture.DEFAULT_RESPONSE_TIMEOUT_MILLIS, true, List.of()));
             RawConnection c = rewriting.connect()) {
            c.send("GET /echo HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.all("Host")).containsExactly("127.0.0.1:" + upstream.port());
        assertThat(got.all("X-Forwarded-Host")).containsExactly("client.example");
    }

    @Test
    void absoluteFormWithHttpsSchemeIsAcceptedAndOtherSchemesRefused() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET HTTPS://other.example:8443?q=2 HTTP/1.1\r\nHost: other.example:8443\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET httpx://other.example/echo HTTP/1.1\r\nHost: other.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(400);
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.uri()).isEqualTo("/?q=2");
        assertThat(got.all("Host")).containsExactly("other.example:8443");
        assertThat(upstream.pendingReceived()).isZero();
    }

    @Test
    void absoluteFormTargetBecomesOriginFormWithItsAuthorityAsHost() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET http://other.example/echo/abs?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.uri()).isEqualTo("/echo/abs?q=1");
        assertThat(got.all("Host")).containsExactly("other.example");
    }
}
