package dev.scopegate.proxy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** TLS towards clients and towards the upstream (the IdP is usually HTTPS). */
@Timeout(20)
class TlsTest {

    private static TestCertificate cert;

    @BeforeAll
    static void certificate(@TempDir Path dir) throws Exception {
        cert = TestCertificate.generate(dir);
    }

    @Test
    void tlsListenerServesKeepAliveRequestsWithBodies() throws Exception {
        byte[] body = PassThroughTest.binaryBody(300_000);
        try (TestUpstream upstream = TestUpstream.start();
             GatewayFixture gateway = GatewayFixture.builder(new ProxySettings(
                             GatewayFixture.target("/", upstream.port(), false, false), List.of(),
                             GatewayFixture.DEFAULT_RESPONSE_TIMEOUT_MILLIS, List.of(), null, null, true, true))
                     .listenerTls(cert.nettyServer()).start();
             RawConnection c = RawConnection.openTls(gateway.port(), cert.jdkClient())) {
            for (int i = 0; i < 3; i++) {
                java.io.ByteArrayOutputStream req = new java.io.ByteArrayOutputStream();
                req.writeBytes(("POST /echo/" + i + " HTTP/1.1\r\nHost: client.example\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                req.writeBytes(body);
                c.send(req.toByteArray());
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(body);
                assertThat(upstream.takeReceived().first("X-Forwarded-Proto")).isEqualTo("https");
            }
            c.send("GET /sse HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            upstream.openGate();
            java.io.ByteArrayOutputStream events = new java.io.ByteArrayOutputStream();
            c.readBody(head, false, events::write, new ArrayList<>());
            assertThat(events.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("data: one\n\ndata: two\n\n");
        }
    }

    @Test
    void httpsUpstreamIsVerifiedAndPooled() throws Exception {
        try (TestUpstream upstream = TestUpstream.startTls(cert.nettyServer());
             GatewayFixture gateway = GatewayFixture.builder(settingsForTlsUpstream(upstream.port()))
                     .upstreamTls(cert.nettyClient()).start();
             RawConnection c = gateway.connect()) {
            for (int i = 0; i < 5; i++) {
                c.send("POST /echo/" + i + " HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5\r\n\r\nhello");
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.bodyText()).isEqualTo("hello");
            }
            long n = 8L << 20;
            c.send("GET /large?n=" + n + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(c.readPatternBody(head)).isEqualTo(n);
            assertThat(upstream.acceptedConnections()).isEqualTo(1);
        }
    }

    @Test
    void untrustedUpstreamCertificateIs502() throws Exception {
        try (TestUpstream upstream = TestUpstream.startTls(cert.nettyServer());
             GatewayFixture gateway = GatewayFixture.builder(settingsForTlsUpstream(upstream.port())).start();
             RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(502);
            assertThat(upstream.pendingReceived()).isZero();
        }
    }

    private static ProxySettings settingsForTlsUpstream(int port) {
        return new ProxySettings(new ProxySettings.Target("/",
                new dev.scopegate.proxy.upstream.Origin(true, "127.0.0.1", port), false, false,
                GatewayFixture.DEFAULT_READ_TIMEOUT_MILLIS), List.of(),
                GatewayFixture.DEFAULT_RESPONSE_TIMEOUT_MILLIS, List.of(), null, null, false, true);
    }
}
