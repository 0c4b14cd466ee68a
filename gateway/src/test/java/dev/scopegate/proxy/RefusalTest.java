package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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

    /** A failed test may leave requests behind: they must not be taken for the next test's. */
    @BeforeEach
    void forgetEarlierRequests() throws InterruptedException {
        while (upstream.pendingReceived() > 0) {
            upstream.takeReceived();
        }
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

    /**
     * Target bytes the decoder hands over and RFC 9112/3986 forbid (controls, DEL, {@code "#<>[\\]^`{|}},
     * a {@code %} without two hex digits), in the path and in the query of origin-form and
     * absolute-form targets, and in the authority of an absolute-form target. SP, HTAB, VT, FF and
     * CR split the request line and LF ends it: the decoder refuses those (see {@link #refused()}).
     */
    static Stream<Arguments> forbiddenTargets() {
        List<Arguments> cases = new ArrayList<>();
        List<String> pieces = new ArrayList<>();
        for (int b = 0; b < 0x20; b++) {
            if (b != '\t' && b != '\n' && b != 0x0B && b != 0x0C && b != '\r') {
                pieces.add(String.valueOf((char) b));
            }
        }
        pieces.add("\u007f");
        for (char c : "\"#<>[\\]^`{|}".toCharArray()) {
            pieces.add(String.valueOf(c));
        }
        pieces.addAll(List.of("%", "%4", "%zz", "%\u00e9\u00e9"));
        for (String piece : pieces) {
            String name = piece.length() == 1 && piece.charAt(0) < 0x21 || piece.charAt(0) == 0x7f
                    ? String.format("0x%02X", (int) piece.charAt(0)) : piece;
            cases.add(Arguments.of(name + " in the path", "/echo/a" + piece + "-b?x=1"));
            cases.add(Arguments.of(name + " in the query", "/echo/ab?x=" + piece + "-1"));
            cases.add(Arguments.of(name + " in an absolute-form path", "http://client.example/echo/a" + piece + "-b"));
        }
        cases.add(Arguments.of("NUL in an absolute-form authority", "http://client.exam\u0000ple/echo"));
        cases.add(Arguments.of("0x01 in an absolute-form authority", "http://client.example\u0001/echo"));
        cases.add(Arguments.of("DEL in an absolute-form authority", "http://client.example:80\u007f/echo"));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forbiddenTargets")
    void aForbiddenTargetByteIsAnswered400AndNothingGoesUpstream(String what, String target) throws Exception {
        int before = upstream.pendingReceived();
        long bytesBefore = upstream.bytesReceived();
        try (RawConnection c = gateway.connect()) {
            c.send("GET " + target + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).as(what).isEqualTo(400);
            assertThat(r.bodyText()).contains("invalid request target");
            assertThat(r.header("Connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByPeer()).as("closed after " + what).isTrue();
        }
        assertThat(upstream.bytesReceived()).as("bytes the upstream read").isEqualTo(bytesBefore);
        assertThat(upstream.pendingReceived()).as("nothing reached the upstream").isEqualTo(before);
        assertFreshConnectionWorks();
    }

    @Test
    void aForbiddenTargetPipelinedBeforeAGoodRequestStopsTheConnection() throws Exception {
        long bytesBefore = upstream.bytesReceived();
        try (RawConnection c = gateway.connect()) {
            c.send("GET /echo/a\u0000b HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(400);
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(upstream.bytesReceived()).as("bytes the upstream read").isEqualTo(bytesBefore);
        assertFreshConnectionWorks();
    }

    /**
     * Bytes 0x80-0xFF and valid escapes (of any byte, %00 included) reach the upstream exactly as
     * sent, in a short target and in one of 48 characters and more (written another way).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("forwardedTargets")
    void targetBytesAbove0x7FAndEscapesAreForwardedByteForByte(String what, String target, String forwarded)
            throws Exception {
        try (RawConnection c = gateway.connect()) {
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes("GET ".getBytes(StandardCharsets.US_ASCII));
            request.writeBytes(target.getBytes(StandardCharsets.ISO_8859_1));
            request.writeBytes(" HTTP/1.1\r\nHost: client.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.send(request.toByteArray());
            assertThat(c.read().status()).as(what).isEqualTo(200);
        }
        byte[] seen = upstream.takeReceived().uri().getBytes(StandardCharsets.ISO_8859_1);
        assertThat(seen).as(what).isEqualTo(forwarded.getBytes(StandardCharsets.ISO_8859_1));
    }

    static Stream<Arguments> forwardedTargets() {
        StringBuilder high = new StringBuilder("/echo/");
        for (int b = 0x80; b <= 0xFF; b++) {
            high.append((char) b);
        }
        high.append("?q=");
        for (int b = 0xFF; b >= 0x80; b--) {
            high.append((char) b);
        }
        return Stream.of(
                same("UTF-8 bytes, short", "/echo/caf\u00c3\u00a9?n=J\u00c3\u00bcrgen"),
                same("every byte 0x80-0xFF", high.toString()),
                same("escapes, short", "/echo/%41%e2%82%AC?q=%00%7f%25%20"),
                same("escapes and sub-delims, long",
                        "/echo/a%2Fb;c=d,e?redirect_uri=https%3A%2F%2Fx.example%2Fcb&s=!$&'()*+,;=:@/?~%7E"),
                Arguments.of("absolute-form with UTF-8", "http://client.example/echo/\u00e2\u0082\u00ac?x=%C3%A9",
                        "/echo/\u00e2\u0082\u00ac?x=%C3%A9"));
    }

    private static Arguments same(String what, String target) {
        return Arguments.of(what, target, target);
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
