package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A response body far larger than the test JVM's heap and direct memory (surefire runs with
 * {@code -Xmx512m}; Netty's direct memory defaults to the same) streams to the client: the
 * transfer completing at all proves that the gateway never aggregates it.
 */
class LargeResponseBodyTest {

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
    void oneGibResponseBodyWithContentLength() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("GET /large?n=" + ONE_GIB + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(ONE_GIB);

            assertThat(c.readPatternBody(head)).isEqualTo(ONE_GIB);

            c.send("GET /echo/after HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    @Timeout(30)
    void chunkedResponseBody() throws Exception {
        long length = 16L << 20;
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("GET /large?n=" + length + "&chunked HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.chunked()).isTrue();
            assertThat(c.readPatternBody(head)).isEqualTo(length);
        }
    }
}
