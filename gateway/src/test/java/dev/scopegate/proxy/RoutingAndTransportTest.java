package dev.scopegate.proxy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Extra routes to a second origin on one client connection, and the NIO transport. */
@Timeout(20)
class RoutingAndTransportTest {

    @Test
    void extraRoutesGoToTheirOriginAndOneConnectionCanAlternate() throws Exception {
        try (TestUpstream idp = TestUpstream.start(); TestUpstream mcp = TestUpstream.start();
             GatewayFixture gateway = GatewayFixture.start(GatewayFixture.settings(idp.port(),
                     GatewayFixture.DEFAULT_RESPONSE_TIMEOUT_MILLIS, false,
                     List.of(GatewayFixture.target("/mcp", mcp.port(), true, true))));
             RawConnection c = gateway.connect()) {
            for (String path : List.of("/mcp", "/echo/a", "/mcp/sse/x", "/mcpx", "/mcp?q=1", "/echo/b")) {
                c.send("GET " + path + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
                RawConnection.Response r = c.read();
                assertThat(r.status()).as(path).isEqualTo(200);
                assertThat(r.header("X-Echo-Uri")).isEqualTo(path);
            }
            assertThat(mcp.takeReceived().uri()).isEqualTo("/mcp");
            assertThat(mcp.takeReceived().uri()).isEqualTo("/mcp/sse/x");
            TestUpstream.Received third = mcp.takeReceived();
            assertThat(third.uri()).isEqualTo("/mcp?q=1");
            assertThat(third.first("Host")).isEqualTo("127.0.0.1:" + mcp.port()); // that route rewrites Host
            assertThat(idp.takeReceived().uri()).isEqualTo("/echo/a");
            assertThat(idp.takeReceived().uri()).isEqualTo("/mcpx");
            TestUpstream.Received last = idp.takeReceived();
            assertThat(last.uri()).isEqualTo("/echo/b");
            assertThat(last.first("Host")).isEqualTo("client.example");
            assertThat(idp.acceptedConnections()).isEqualTo(1);
            assertThat(mcp.acceptedConnections()).isEqualTo(1);
        }
    }

    @Test
    void nioTransportPassesTheSameBasics() throws Exception {
        try (TestUpstream upstream = TestUpstream.start();
             GatewayFixture gateway = GatewayFixture.builder(upstream.port()).nativeTransport(false).start();
             RawConnection c = gateway.connect()) {
            assertThat(gateway.isNative()).isFalse();
            byte[] body = PassThroughTest.binaryBody(200_000);
            java.io.ByteArrayOutputStream req = new java.io.ByteArrayOutputStream();
            req.writeBytes(("POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            req.writeBytes(body);
            req.writeBytes("GET /chunked HTTP/1.1\r\nHost: client.example\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            c.send(req.toByteArray());
            assertThat(c.read().body()).isEqualTo(body);
            assertThat(c.read().bodyText()).isEqualTo("alpha-beta-gamma");

            long n = 64L << 20;
            c.timeout(30_000);
            c.send("GET /large?n=" + n + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.readPatternBody(c.readHead())).isEqualTo(n);

            c.send("PUT /count HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n\r\n");
            long crc = BodyPattern.write(c.output(), n, true);
            assertThat(c.read().bodyText()).isEqualTo("bytes=" + n + " crc=" + Long.toHexString(crc));

            c.send("GET /sse HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            upstream.openGate();
            java.io.ByteArrayOutputStream events = new java.io.ByteArrayOutputStream();
            c.readBody(head, false, events::write, new java.util.ArrayList<>());
            assertThat(events.toString(java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("data: one\n\ndata: two\n\n");
        }
    }
}
