package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request body far larger than the test JVM's heap and direct memory (surefire runs with
 * {@code -Xmx512m}; Netty's direct memory defaults to the same) streams to the upstream: the
 * transfer completing at all proves that the gateway never aggregates it.
 */
class LargeRequestBodyTest {

    private static final long ONE_GIB = 1L << 30;

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
    @Timeout(60)
    void oneGibRequestBodyWithContentLength() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("POST /count HTTP/1.1\r\nHost: client.example\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: " + ONE_GIB + "\r\n\r\n");
            long crc = BodyPattern.write(c.output(), ONE_GIB, false);
            RawConnection.Response r = c.read();

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("bytes=" + ONE_GIB + " crc=" + Long.toHexString(crc));
        }
        assertThat(upstream.takeReceived().bodyBytes()).isEqualTo(ONE_GIB);
    }

    @Test
    @Timeout(30)
    void chunkedRequestBody() throws Exception {
        long length = 16L << 20;
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("PUT /count HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n\r\n");
            long crc = BodyPattern.write(c.output(), length, true);
            RawConnection.Response r = c.read();

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("bytes=" + length + " crc=" + Long.toHexString(crc));
        }
    }
}
