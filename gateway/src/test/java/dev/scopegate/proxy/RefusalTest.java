package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Requests a proxy must not forward (smuggling-shaped framing, oversized heads) are answered by
 * the gateway itself and the connection is closed; the gateway keeps serving afterwards.
 */
@Timeout(20)
class RefusalTest {

    private static TestUpstream upstream;
    private static GatewayFixture gateway;

    @BeforeAll
    static void start() throws Exception {
        upstream = TestUpstream.start();
        gateway = GatewayFixture.start(upstream.port());
    }

    @AfterAll
    static void stop() {
        gateway.close();
        upstream.close();
    }

    static Stream<Arguments> refused() {
        String longLine = "GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: client.example\r\n\r\n";
        StringBuilder bigHeaders = new StringBuilder("GET /echo HTTP/1.1\r\nHost: client.example\r\n");
        for (int i = 0; i < 20; i++) {
            bigHeaders.append("X-Filler-").append(i).append(": ").append("v".repeat(1000)).append("\r\n");
        }
        bigHeaders.append("\r\n");
        return Stream.of(
                Arguments.of("Content-Length with Transfer-Encoding", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5\r\n"
                                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                Arguments.of("Transfer-Encoding before Content-Length", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n"
                                + "Content-Length: 5\r\n\r\n0\r\n\r\n"),
                Arguments.of("two differing Content-Length", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5\r\n"
                                + "Content-Length: 6\r\n\r\nhello!"),
                Arguments.of("Content-Length list", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5, 6\r\n\r\nhello!"),
                Arguments.of("bad chunk size", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "zz\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("Transfer-Encoding not ending in chunked", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: gzip\r\n\r\nhello"),
                Arguments.of("obs-fold", 400,
                        "GET /echo HTTP/1.1\r\nHost: client.example\r\nX-Folded: one\r\n two\r\n\r\n"),
                Arguments.of("obs-fold with a tab", 400,
                        "GET /echo HTTP/1.1\r\nHost: client.example\r\nX-Folded: one\r\n\ttwo\r\n\r\n"),
                Arguments.of("bare LF", 400,
                        "GET /echo HTTP/1.1\nHost: client.example\n\n"),
                Arguments.of("bare LF inside the headers", 400,
                        "GET /echo HTTP/1.1\r\nHost: client.example\nX-A: b\r\n\r\n"),
                Arguments.of("header section over 16384 bytes", 431, bigHeaders.toString()),
                Arguments.of("request line over 8192 bytes", 414, longLine),
                Arguments.of("missing Host on HTTP/1.1", 400, "GET /echo HTTP/1.1\r\nX-A: b\r\n\r\n"),
                Arguments.of("two Host headers", 400,
                        "GET /echo HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"),
                Arguments.of("space before the colon", 400,
                        "GET /echo HTTP/1.1\r\nHost: client.example\r\nX-A : b\r\n\r\n"),
                Arguments.of("two Transfer-Encoding headers", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n"
                                + "Transfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("chunked applied twice", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
                                + "5\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("xchunked", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: xchunked\r\n\r\n"
                                + "5\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("signed Content-Length", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: +5\r\n\r\nhello"),
                Arguments.of("hex Content-Length", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: 0x5\r\n\r\nhello"),
                Arguments.of("negative Content-Length", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: -1\r\n\r\nhello"),
                Arguments.of("chunk size overflow", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "fffffffffffffffff1\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("chunk data longer than its size", 400,
                        "POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + "3\r\nhello\r\n0\r\n\r\n"),
                Arguments.of("NUL in a header value", 400,
                        "GET /echo HTTP/1.1\r\nHost: client.example\r\nX-A: a\u0000b\r\n\r\n"),
                Arguments.of("a space inside the target", 400, "GET /echo /two HTTP/1.1\r\nHost: client.example\r\n\r\n"),
                Arguments.of("a tab inside the target", 400, "GET /echo\t/two HTTP/1.1\r\nHost: client.example\r\n\r\n"),
                Arguments.of("a bare CR inside the target", 400, "GET /echo\r/two HTTP/1.1\r\nHost: client.example\r\n\r\n"),
                Arguments.of("HTTP/2 preface", 505, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                Arguments.of("HTTP/2.0 request line", 505, "GET /echo HTTP/2.0\r\nHost: client.example\r\n\r\n"),
                Arguments.of("HTTP/3.0 request line", 505, "GET /echo HTTP/3.0\r\nHost: client.example\r\n\r\n"),
                Arguments.of("CONNECT", 405, "CONNECT client.example:443 HTTP/1.1\r\nHost: client.example:443\r\n\r\n"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("refused")
    void isAnsweredByTheGatewayAndTheConnectionClosed(String what, int status, String request) throws Exception {
        int before = upstream.pendingReceived();
        try (RawConnection c = gateway.connect()) {
            c.send(request);
            RawConnection.Response r = c.read();
            assertThat(r.status()).as(what).isEqualTo(status);
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(r.header("Content-Type")).startsWith("text/plain");
            assertThat(c.closedByPeer()).as("closed after " + what).isTrue();
        }
        assertThat(upstream.pendingReceived()).as("nothing reached the upstream").isEqualTo(before);
        assertFreshConnectionWorks();
    }

    @Test
    void refusalAfterAGoodRequestOnTheSameConnection() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/ok HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
            assertThat(c.read().status()).isEqualTo(200);
            assertThat(c.read().status()).isEqualTo(400);
            assertThat(c.closedByPeer()).isTrue();
        }
        upstream.takeReceived();
        assertFreshConnectionWorks();
    }

    @Test
    void higherMinorVersionIsHandledAsHttp11() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/minor HTTP/1.7\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.head().statusLine()).startsWith("HTTP/1.1 ");
        }
        assertThat(upstream.takeReceived().version()).isEqualTo("HTTP/1.1");
    }

    private static void assertFreshConnectionWorks() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/after HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("X-Echo-Uri")).isEqualTo("/echo/after");
        }
        assertThat(upstream.takeReceived().uri()).isEqualTo("/echo/after");
    }
}
