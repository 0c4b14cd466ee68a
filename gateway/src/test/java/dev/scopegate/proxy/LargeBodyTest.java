package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bodies far larger than the test JVM's heap and direct memory (surefire runs with
 * {@code -Xmx512m}, and Netty's direct memory defaults to the same) stream through in both
 * directions: the transfer completing at all proves that the gateway never aggregates a body.
 */
class LargeBodyTest {

    private static final long ONE_GIB = 1L << 30;
    private static final int BLOCK = 256 << 10;

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
    void oneGibRequestBodyStreamsToTheUpstream() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("POST /count HTTP/1.1\r\nHost: client.example\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: " + ONE_GIB + "\r\n\r\n");
            long crc = writePattern(c.output(), ONE_GIB, false);
            RawConnection.Response r = c.read();

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("bytes=" + ONE_GIB + " crc=" + Long.toHexString(crc));
        }
        assertThat(upstream.takeReceived().bodyBytes()).isEqualTo(ONE_GIB);
    }

    @Test
    @Timeout(60)
    void chunkedRequestBodyStreamsToTheUpstream() throws Exception {
        long length = 64L << 20;
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("PUT /count HTTP/1.1\r\nHost: client.example\r\nTransfer-Encoding: chunked\r\n\r\n");
            long crc = writePattern(c.output(), length, true);
            RawConnection.Response r = c.read();

            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("bytes=" + length + " crc=" + Long.toHexString(crc));
        }
    }

    @Test
    @Timeout(60)
    void oneGibResponseBodyStreamsToTheClient() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("GET /large?n=" + ONE_GIB + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(ONE_GIB);

            long received = readVerified(c, head);
            assertThat(received).isEqualTo(ONE_GIB);

            c.send("GET /echo/after HTTP/1.1\r\nHost: client.example\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    @Timeout(60)
    void chunkedResponseBodyStreamsToTheClient() throws Exception {
        long length = 64L << 20;
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("GET /large?n=" + length + "&chunked HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.chunked()).isTrue();
            assertThat(readVerified(c, head)).isEqualTo(length);
        }
    }

    /** Writes {@code length} pattern bytes (as chunks when asked) and returns their CRC-32. */
    private static long writePattern(OutputStream out, long length, boolean chunked) throws Exception {
        byte[] block = new byte[BLOCK];
        CRC32 crc = new CRC32();
        long written = 0;
        while (written < length) {
            int n = (int) Math.min(BLOCK, length - written);
            BodyPattern.fill(written, block, 0, n);
            crc.update(block, 0, n);
            if (chunked) {
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            out.write(block, 0, n);
            if (chunked) {
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            written += n;
        }
        if (chunked) {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
        return crc.getValue();
    }

    /** Reads the body, checking every byte against the pattern; returns how many arrived. */
    private static long readVerified(RawConnection c, RawConnection.Head head) throws Exception {
        long[] position = {0};
        boolean[] ok = {true};
        c.readBody(head, false, (buf, off, len) -> {
            if (ok[0] && !BodyPattern.matches(position[0], buf, off, len)) {
                ok[0] = false;
            }
            position[0] += len;
        }, new ArrayList<>());
        assertThat(ok[0]).as("body bytes match the pattern").isTrue();
        return position[0];
    }
}
