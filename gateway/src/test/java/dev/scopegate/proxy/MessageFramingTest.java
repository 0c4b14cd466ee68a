package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Chunked bodies and trailers, event streams, 100-continue, bodyless responses, close-delimited bodies. */
@Timeout(20)
class MessageFramingTest {

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
    void chunkedRequestWithTrailersIsForwardedChunked() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("POST /echo HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n"
                    + "Trailer: X-Request-Sum\r\n\r\n"
                    + "5\r\nhello\r\n"
                    + "1;ext=1\r\n \r\n"
                    + "5\r\nworld\r\n"
                    + "0\r\nX-Request-Sum: 11\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello world");
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.bodyText()).isEqualTo("hello world");
        assertThat(got.all("Transfer-Encoding")).containsExactly("chunked");
        assertThat(got.all("Content-Length")).isEmpty();
        assertThat(got.trailers()).containsExactly(new TestUpstream.Header("X-Request-Sum", "11"));
    }

    @Test
    void chunkedResponseWithTrailersIsRelayedChunked() throws Exception {
        try (RawConnection c = gateway.connect()) {
            for (int round = 0; round < 2; round++) {
                c.send("GET /chunked HTTP/1.1\r\nHost: client.example\r\nTE: trailers\r\n\r\n");
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.head().chunked()).isTrue();
                assertThat(r.head().has("Content-Length")).isFalse();
                assertThat(r.bodyText()).isEqualTo("alpha-beta-gamma");
                assertThat(r.trailers()).containsExactly(new RawConnection.Header("X-Checksum", "alpha-beta-gamma"));
            }
        }
    }

    @Test
    void closeDelimitedResponseIsChunkedForHttp11Clients() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /noclen HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.head().chunked()).isTrue();
            assertThat(r.bodyText()).isEqualTo("body ended by close");
            // the client connection survives the upstream's close
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().header("X-Echo-Uri")).isEqualTo("/echo/next");
        }
    }

    @Test
    void http10ClientGetsCloseDelimitedBodiesInsteadOfChunks() throws Exception {
        for (String path : List.of("/chunked", "/noclen")) {
            try (RawConnection c = gateway.connect()) {
                c.send("GET " + path + " HTTP/1.0\r\nHost: client.example\r\nConnection: keep-alive\r\n\r\n");
                RawConnection.Head head = c.readHead();
                assertThat(head.statusLine()).startsWith("HTTP/1.0 200");
                assertThat(head.has("Transfer-Encoding")).as(path).isFalse();
                assertThat(head.first("Connection")).isEqualToIgnoringCase("close");
                String body = new String(c.readToEnd(), StandardCharsets.ISO_8859_1);
                assertThat(body).isIn("alpha-beta-gamma", "body ended by close");
            }
        }
    }

    @Test
    void eventStreamEventsArriveBeforeTheUpstreamFinishes() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /sse HTTP/1.1\r\nHost: client.example\r\nAccept: text/event-stream\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.first("Content-Type")).isEqualTo("text/event-stream");
            assertThat(head.chunked()).isTrue();
            // the upstream holds the second event until the gate opens: the first must already be here
            assertThat(readChunk(c)).isEqualTo("data: one\n\n");
            upstream.openGate();
            List<RawConnection.Header> trailers = new ArrayList<>();
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            c.readBody(head, false, rest::write, trailers);
            assertThat(rest.toString(StandardCharsets.UTF_8)).isEqualTo("data: two\n\n");
        }
    }

    /** One chunk of a chunked body, read straight from the wire. */
    private static String readChunk(RawConnection c) throws Exception {
        StringBuilder sizeLine = new StringBuilder();
        byte[] one = new byte[1];
        while (!sizeLine.toString().endsWith("\r\n")) {
            assertThat(c.readSomeBody(one, 0, 1)).isEqualTo(1);
            sizeLine.append((char) one[0]);
        }
        int size = Integer.parseInt(sizeLine.toString().trim(), 16);
        byte[] data = new byte[size + 2];
        int n = 0;
        while (n < data.length) {
            int r = c.readSomeBody(data, n, data.length - n);
            assertThat(r).isPositive();
            n += r;
        }
        return new String(data, 0, size, StandardCharsets.UTF_8);
    }

    @Test
    void expectContinueGets100ThenTheFinalResponse() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("PUT /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n");
            RawConnection.Response interim = c.read();
            assertThat(interim.status()).isEqualTo(100);
            assertThat(interim.head().statusLine()).isEqualTo("HTTP/1.1 100 Continue");
            c.send("hello world");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hello world");
            // and the connection goes on
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().header("X-Echo-Uri")).isEqualTo("/echo/next");
        }
        TestUpstream.Received got = upstream.takeReceived();
        assertThat(got.all("Expect")).isEmpty();
        assertThat(got.bodyText()).isEqualTo("hello world");
    }

    @Test
    void informationalResponsesFromTheUpstreamAreSkipped() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("GET /early-hints HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("hinted");
            c.send("HEAD /early-hints HTTP/1.1\r\nHost: client.example\r\n\r\n");
            r = c.read(true);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.head().contentLength()).isEqualTo(6);
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().header("X-Echo-Uri")).isEqualTo("/echo/next");
        }
    }

    @Test
    void pipelinedExpectContinueWaitsForTheResponseBeforeIt() throws Exception {
        int n = 4 << 20;
        try (RawConnection c = gateway.connect()) {
            c.send("GET /large?n=" + n + " HTTP/1.1\r\nHost: client.example\r\n\r\n"
                    + "PUT /echo HTTP/1.1\r\nHost: client.example\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            RawConnection.Response first = c.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.body()).hasSize(n);
            assertThat(BodyPattern.matches(0, first.body(), 0, n)).isTrue();
            assertThat(c.read().status()).isEqualTo(100);
            c.send("hello");
            RawConnection.Response second = c.read();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.bodyText()).isEqualTo("hello");
        }
    }

    @Test
    void headResponseHasNoBody() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.send("HEAD /large?n=5000 HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read(true);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.head().contentLength()).isEqualTo(5000);
            c.send("HEAD /large?n=5000&chunked HTTP/1.1\r\nHost: client.example\r\n\r\n");
            r = c.read(true);
            assertThat(r.status()).isEqualTo(200);
            // no body bytes followed: the next response parses cleanly
            c.send("GET /echo/after-head HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response next = c.read();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.header("X-Echo-Uri")).isEqualTo("/echo/after-head");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {204, 304})
    void bodylessStatusesPassThrough(int status) throws Exception {
        try (RawConnection c = gateway.connect()) {
            for (int round = 0; round < 2; round++) {
                c.send("GET /status?code=" + status + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
                RawConnection.Response r = c.read();
                assertThat(r.status()).isEqualTo(status);
                assertThat(r.header("ETag")).isEqualTo("\"v1\"");
                assertThat(r.head().has("Transfer-Encoding")).isFalse();
            }
            c.send("GET /echo/next HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().header("X-Echo-Uri")).isEqualTo("/echo/next");
        }
    }
}
