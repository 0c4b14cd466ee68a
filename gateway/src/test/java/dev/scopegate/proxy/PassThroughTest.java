package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Methods, bodies and headers cross the gateway unchanged in both directions. */
@Timeout(20)
class PassThroughTest {

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

    /**
     * RFC 9112 wants an ASCII request-target, but a proxy that meets raw bytes above 0x7F passes
     * them on as they came: Netty's request encoder wrote the target as UTF-8, which turned each
     * such byte into two. Short and long targets (written differently) and the echoed header.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 200})
    void rawNonAsciiBytesInTheTargetReachTheUpstreamUnchanged(int padding) throws Exception {
        String target = "/echo/caf\u00c3\u00a9?q=\u00ff\u0080&pad=" + "p".repeat(padding);
        try (RawConnection c = gateway.connect()) {
            c.send("GET " + target + " HTTP/1.1\r\nHost: client.example\r\n\r\n"); // sent as ISO-8859-1: one byte per char
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Echo-Uri")).isEqualTo(target);
        }
        assertThat(upstream.takeReceived().uri()).isEqualTo(target);
    }

    @Test
    void getReachesTheUpstreamWithTargetAndHeadersUnchanged() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/a%20b/c?x=1&y=%2F&z HTTP/1.1\r\n"
                    + "Host: client.example\r\n"
                    + "Accept: */*\r\n"
                    + "X-Mixed-Case: Value With  Spaces\r\n"
                    + "X-Multi: 1\r\n"
                    + "X-Multi: 2\r\n"
                    + "Cookie: a=1; b=2\r\n"
                    + "\r\n");
            RawConnection.Response r = c.read();

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Echo-Method")).isEqualTo("GET");
            assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/a%20b/c?x=1&y=%2F&z");
            assertThat(r.body()).isEmpty();
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.method()).isEqualTo("GET");
        assertThat(got.uri()).isEqualTo("/echo/a%20b/c?x=1&y=%2F&z");
        assertThat(got.version()).isEqualTo("HTTP/1.1");
        assertThat(got.all("Host")).containsExactly("client.example");
        assertThat(got.headers()).containsSubsequence(
                new TestUpstream.Header("Accept", "*/*"),
                new TestUpstream.Header("X-Mixed-Case", "Value With  Spaces"),
                new TestUpstream.Header("X-Multi", "1"),
                new TestUpstream.Header("X-Multi", "2"),
                new TestUpstream.Header("Cookie", "a=1; b=2"));
        assertThat(got.bodyBytes()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH"})
    void bodiesAndResponseHeadersAreByteIdenticalBothWays(String method) throws Exception {
        byte[] body = binaryBody(100_000);
        try (RawConnection c = gateway.connect()) {
            for (int round = 0; round < 2; round++) { // twice: the second one reuses both connections
                ByteArrayOutputStream req = new ByteArrayOutputStream();
                req.writeBytes((method + " /echo/item/" + round + " HTTP/1.1\r\n"
                        + "Host: client.example\r\n"
                        + "Content-Type: application/octet-stream\r\n"
                        + "Content-Length: " + body.length + "\r\n"
                        + "X-Reply-Header: X-Resp-One: first\r\n"
                        + "X-Reply-Header: Set-Cookie: a=1; Path=/\r\n"
                        + "X-Reply-Header: Set-Cookie: b=2; Path=/\r\n"
                        + "X-Reply-Header: ETag: \"abc\"\r\n"
                        + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                req.writeBytes(body);
                c.send(req.toByteArray());
                RawConnection.Response r = c.read();

                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(body);
                assertThat(r.header("X-Echo-Method")).isEqualTo(method);
                assertThat(r.head().headers()).containsSubsequence(
                        new RawConnection.Header("content-type", "application/octet-stream"),
                        new RawConnection.Header("content-length", Integer.toString(body.length)),
                        new RawConnection.Header("X-Echo-Method", method),
                        new RawConnection.Header("X-Echo-Uri", "/echo/item/" + round),
                        new RawConnection.Header("X-Resp-One", "first"),
                        new RawConnection.Header("Set-Cookie", "a=1; Path=/"),
                        new RawConnection.Header("Set-Cookie", "b=2; Path=/"),
                        new RawConnection.Header("ETag", "\"abc\""));

                TestUpstream.Received got = upstream.takeReceived();
                assertThat(got.method()).isEqualTo(method);
                assertThat(got.body()).isEqualTo(body);
                assertThat(got.first("Content-Length")).isEqualTo(Integer.toString(body.length));
                assertThat(got.first("Content-Type")).isEqualTo("application/octet-stream");
            }
        }
        assertThat(upstream.acceptedConnections()).isEqualTo(1);
    }

    @Test
    void http10ClientGetsAnHttp10AnswerAndAClose() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo HTTP/1.0\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.head().statusLine()).startsWith("HTTP/1.0 200");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(upstream.takeReceived().version()).isEqualTo("HTTP/1.1");
    }

    @Test
    void http10KeepAliveClientKeepsItsConnection() throws Exception {
        try (RawConnection c = gateway.connect()) {
            for (int i = 0; i < 2; i++) {
                c.send("POST /echo/" + i + " HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi");
                RawConnection.Response r = c.read();
                assertThat(r.head().statusLine()).startsWith("HTTP/1.0 200");
                assertThat(r.header("Connection")).isEqualToIgnoringCase("keep-alive");
                assertThat(r.bodyText()).isEqualTo("hi");
            }
        }
        // no Host from an HTTP/1.0 client: the upstream gets the target's authority
        assertThat(upstream.takeReceived().first("Host")).isEqualTo("127.0.0.1:" + upstream.port());
    }

    @Test
    void upstreamNamedByHostNameIsResolved() throws Exception {
        ProxySettings byName = new ProxySettings(new ProxySettings.Target("/",
                new dev.scopegate.proxy.upstream.Origin(false, "localhost", upstream.port()), true, false,
                GatewayFixture.DEFAULT_READ_TIMEOUT_MILLIS), List.of(),
                GatewayFixture.DEFAULT_RESPONSE_TIMEOUT_MILLIS, List.of(), null, null, false, true);
        try (GatewayFixture named = GatewayFixture.start(byName); RawConnection c = named.connect()) {
            c.send("GET /echo/named HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
        assertThat(upstream.takeReceived().first("Host")).isEqualTo("localhost:" + upstream.port());
    }

    static byte[] binaryBody(int size) {
        byte[] body = new byte[size];
        new Random(size).nextBytes(body);
        for (int i = 0; i < 256 && i < size; i++) {
            body[i] = (byte) i; // every byte value, CR and LF included
        }
        return body;
    }
}
