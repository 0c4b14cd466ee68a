package dev.scopegate.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reader that stops reading stops the writer on the other side of the gateway: what is in
 * flight stays bounded by socket buffers and a few Netty buffers, far below the body size.
 */
@Timeout(60)
class BackpressureTest {

    private static final long BODY = 256L << 20;
    /** Generous: loopback socket buffers on both hops plus Netty's write buffers. */
    private static final long IN_FLIGHT_BOUND = 64L << 20;

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
    void aClientThatStopsReadingStopsTheUpstream() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("GET /large?n=" + BODY + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);

            long stalledAt = awaitPlateau(upstream::largeBytesWritten);
            assertThat(stalledAt).isLessThan(IN_FLIGHT_BOUND);

            assertThat(c.readPatternBody(head)).isEqualTo(BODY);
        }
    }

    @Test
    void anUpstreamThatStopsReadingStopsTheClient() throws Exception {
        try (RawConnection c = gateway.connect()) {
            c.timeout(30_000);
            c.send("POST /count?paused HTTP/1.1\r\nHost: client.example\r\nContent-Length: " + BODY + "\r\n\r\n");
            AtomicLong written = new AtomicLong();
            CompletableFuture<Long> writer = CompletableFuture.supplyAsync(() -> write(c.output(), written));

            long stalledAt = awaitPlateau(written::get);
            assertThat(stalledAt).isLessThan(IN_FLIGHT_BOUND);
            assertThat(writer).isNotDone();

            upstream.openGate();
            long crc = writer.get();
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("bytes=" + BODY + " crc=" + Long.toHexString(crc));
        }
    }

    private static long write(OutputStream out, AtomicLong written) {
        byte[] block = new byte[64 << 10];
        CRC32 crc = new CRC32();
        try {
            while (written.get() < BODY) {
                int n = (int) Math.min(block.length, BODY - written.get());
                BodyPattern.fill(written.get(), block, 0, n);
                crc.update(block, 0, n);
                out.write(block, 0, n);
                written.addAndGet(n);
            }
            out.flush();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return crc.getValue();
    }

    /** Waits until {@code progress} stops moving (unchanged over several polls) and returns it. */
    private static long awaitPlateau(LongSupplier progress) throws InterruptedException {
        long last = -1;
        int unchanged = 0;
        while (unchanged < 5) {
            Thread.sleep(100);
            long now = progress.getAsLong();
            unchanged = now == last && now > 0 ? unchanged + 1 : 0;
            last = now;
        }
        return last;
    }
}
