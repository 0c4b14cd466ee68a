package dev.scopegate.proxy;

import dev.scopegate.metrics.MeterNames;
import dev.scopegate.proxy.route.Plan;
import dev.scopegate.proxy.route.ResponseTap;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code upstream.read-timeout} and {@code routes[].read-timeout}: an upstream that goes silent
 * mid-response is cut after the read timeout (the client's connection closed, or 504 while the
 * body was being captured), the upstream connection is discarded, and the pool serves the next
 * request. A body that keeps coming, however slowly, and a client that is slow to read are not
 * cut. Real sockets, real (short) timeouts.
 */
@Timeout(30)
class UpstreamReadTimeoutTest {

    private static final long READ_TIMEOUT_MILLIS = 500;
    /** How late the cut may come: the connection's timer runs on a busy shared machine. */
    private static final long SLACK_MILLIS = 1000;

    private ScriptedUpstream upstream;
    private GatewayFixture gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = new ScriptedUpstream();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        upstream.close();
    }

    private GatewayFixture gateway(long idpReadTimeoutMillis, ProxySettings.Target... routes) throws Exception {
        return gateway(GatewayFixture.builder(settings(upstream.port(), idpReadTimeoutMillis, routes)));
    }

    private GatewayFixture gateway(GatewayFixture.Builder builder) throws Exception {
        gateway = builder.start();
        return gateway;
    }

    private static ProxySettings settings(int port, long idpReadTimeoutMillis, ProxySettings.Target... routes) {
        return new ProxySettings(GatewayFixture.target("/", port, false, false, idpReadTimeoutMillis), List.of(routes),
                GatewayFixture.DEFAULT_RESPONSE_TIMEOUT_MILLIS, List.of(), null, null, false, true);
    }

    // ---- a stalled body is cut ----------------------------------------------------------------

    @Test
    void aBodyThatStallsIsCutByClosingTheClientConnection() throws Exception {
        gateway(READ_TIMEOUT_MILLIS);
        try (RawConnection c = gateway.connect()) {
            c.send("GET /stall HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            long headAt = System.nanoTime();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(ScriptedUpstream.STALL_LENGTH);
            long[] got = {0};
            assertThatThrownBy(() -> c.readBody(head, false, (b, off, len) -> got[0] += len, new ArrayList<>()))
                    .isInstanceOf(EOFException.class);
            assertCutInTime(headAt);
            assertThat(got[0]).isEqualTo(ScriptedUpstream.STALL_SENT);
        }
        assertThat(readTimeouts()).isEqualTo(1);
        upstream.awaitClosedWhileStalled(1);
        assertTheNextRequestIsServed();
    }

    @Test
    void aChunkedBodyThatStallsIsCutWithoutALastChunk() throws Exception {
        gateway(READ_TIMEOUT_MILLIS);
        try (RawConnection c = gateway.connect()) {
            c.send("GET /stall?chunked HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            long headAt = System.nanoTime();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.chunked()).isTrue();
            String rest = new String(c.readToEnd(), StandardCharsets.ISO_8859_1);
            assertCutInTime(headAt);
            assertThat(rest).contains("0123456789").doesNotContain("\r\n0\r\n").doesNotStartWith("0\r\n");
        }
        assertThat(readTimeouts()).isEqualTo(1);
        upstream.awaitClosedWhileStalled(1);
        assertTheNextRequestIsServed();
    }

    /**
     * An HTTP/1.0 client takes a body without a length as ending where the connection closes: a
     * reset, not a close, tells it that the body was cut.
     */
    @Test
    void aCloseDelimitedBodyThatStallsIsCutByAReset() throws Exception {
        gateway(READ_TIMEOUT_MILLIS);
        try (RawConnection c = gateway.connect()) {
            c.send("GET /stall?close-delimited HTTP/1.0\r\n\r\n");
            RawConnection.Head head = c.readHead();
            long headAt = System.nanoTime();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.contentLength()).isEqualTo(-1);
            assertThat(head.chunked()).isFalse();
            byte[] body = new byte[ScriptedUpstream.STALL_SENT];
            for (int n = 0; n < body.length; ) {
                int r = c.readSomeBody(body, n, body.length - n);
                assertThat(r).isPositive();
                n += r;
            }
            assertThat(new String(body, StandardCharsets.ISO_8859_1)).isEqualTo("0123456789");
            assertThatThrownBy(() -> c.readSomeBody(new byte[1], 0, 1))
                    .isInstanceOf(SocketException.class).hasMessageContaining("reset");
            assertCutInTime(headAt);
        }
        assertThat(readTimeouts()).isEqualTo(1);
        upstream.awaitClosedWhileStalled(1);
        assertTheNextRequestIsServed();
    }

    @Test
    void aCapturedBodyThatStallsIs504AndTheConnectionServesOn() throws Exception {
        RouterPlanTest.ScriptedRouter router = new RouterPlanTest.ScriptedRouter();
        router.planner = r -> new Plan.Forward(new CapturingTap());
        gateway(GatewayFixture.builder(settings(upstream.port(), READ_TIMEOUT_MILLIS)).router(router));
        try (RawConnection c = gateway.connect()) {
            long sentAt = System.nanoTime();
            c.send("GET /stall HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(504);
            assertThat(r.bodyText()).doesNotContain("0123456789");
            assertCutInTime(sentAt);
            // nothing of the stalled response reached the client: the connection goes on
            c.send("GET /ok HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response next = c.read();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.bodyText()).isEqualTo("ok");
        }
        assertThat(readTimeouts()).isEqualTo(1);
        upstream.awaitClosedWhileStalled(1);
    }

    // ---- what is not cut ----------------------------------------------------------------------

    @Test
    void aSlowButSteadyBodyIsNotCut() throws Exception {
        gateway(READ_TIMEOUT_MILLIS);
        try (RawConnection c = gateway.connect()) {
            long start = System.nanoTime();
            c.send("GET /drip HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("abcde");
            // longer than the read timeout in all: the deadline is per read, not per response
            assertThat(millisSince(start)).isGreaterThan(2 * READ_TIMEOUT_MILLIS);
            assertTheNextRequestIsServed(c);
        }
        assertThat(readTimeouts()).isZero();
    }

    /**
     * While the client does not read, the gateway does not read the upstream either
     * (backpressure): the upstream's silence is then the client's doing and is not counted.
     */
    @Test
    void aClientThatDoesNotReadForLongerThanTheReadTimeoutIsNotCut() throws Exception {
        long body = 128L << 20;
        try (TestUpstream large = TestUpstream.start()) {
            gateway(GatewayFixture.builder(settings(large.port(), READ_TIMEOUT_MILLIS)));
            try (RawConnection c = gateway.connect()) {
                c.timeout(30_000);
                c.send("GET /large?n=" + body + " HTTP/1.1\r\nHost: client.example\r\n\r\n");
                RawConnection.Head head = c.readHead();
                assertThat(head.status()).isEqualTo(200);
                long stalledAt = awaitPlateau(large::largeBytesWritten);
                assertThat(stalledAt).as("the upstream was held back").isLessThan(body);
                Thread.sleep(2 * READ_TIMEOUT_MILLIS); // (the plateau itself took 500 ms)
                assertThat(c.readPatternBody(head)).isEqualTo(body);
            }
            assertThat(large.cutResponses()).isZero();
        }
        assertThat(readTimeouts()).isZero();
    }

    @Test
    void readTimeoutZeroNeverCuts() throws Exception {
        // the route's short timeout makes the connection's timer tick every 500 ms: what spares
        // the stalled response below is the 0, not a timer that has not come round yet
        gateway(0, GatewayFixture.target("/other", upstream.port(), false, true, READ_TIMEOUT_MILLIS));
        try (RawConnection c = gateway.connect()) {
            c.send("GET /stall HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            c.timeout((int) (READ_TIMEOUT_MILLIS + SLACK_MILLIS));
            assertThatThrownBy(() -> c.readBody(head, false, (b, off, len) -> { }, new ArrayList<>()))
                    .isInstanceOf(SocketTimeoutException.class); // still open, still waiting
        }
        assertThat(readTimeouts()).isZero();
        upstream.awaitClosedWhileStalled(1); // once the client gave up
    }

    // ---- per route ----------------------------------------------------------------------------

    @Test
    void aRouteWithReadTimeoutZeroRelaysAnEventStreamWithLongSilences() throws Exception {
        gateway(READ_TIMEOUT_MILLIS, GatewayFixture.target("/mcp", upstream.port(), false, true, 0));
        try (RawConnection c = gateway.connect()) {
            c.send("GET /mcp/events HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bodyText()).isEqualTo("data: one\n\ndata: two\n\n");
        }
        assertThat(readTimeouts()).isZero();
        // the same stream through the IdP target (upstream.read-timeout) is cut
        try (RawConnection c = gateway.connect()) {
            c.send("GET /events HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            assertThat(head.status()).isEqualTo(200);
            String rest = new String(c.readToEnd(), StandardCharsets.ISO_8859_1);
            assertThat(rest).contains("data: one").doesNotContain("data: two");
        }
        assertThat(readTimeouts()).isEqualTo(1);
    }

    @Test
    void aRouteReadTimeoutAppliesWhereTheUpstreamHasNone() throws Exception {
        gateway(0, GatewayFixture.target("/strict", upstream.port(), false, true, READ_TIMEOUT_MILLIS));
        try (RawConnection c = gateway.connect()) {
            c.send("GET /strict/stall HTTP/1.1\r\nHost: client.example\r\n\r\n");
            RawConnection.Head head = c.readHead();
            long headAt = System.nanoTime();
            assertThatThrownBy(() -> c.readBody(head, false, (b, off, len) -> { }, new ArrayList<>()))
                    .isInstanceOf(EOFException.class);
            assertCutInTime(headAt);
        }
        assertThat(readTimeouts()).isEqualTo(1);
        upstream.awaitClosedWhileStalled(1);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static void assertCutInTime(long since) {
        assertThat(millisSince(since)).isLessThan(READ_TIMEOUT_MILLIS + SLACK_MILLIS);
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private double readTimeouts() {
        Counter c = gateway.registry().find(MeterNames.UPSTREAM_ERRORS).tag("kind", "read-timeout").counter();
        return c == null ? 0 : c.count();
    }

    private void assertTheNextRequestIsServed() throws Exception {
        try (RawConnection c = gateway.connect()) {
            assertTheNextRequestIsServed(c);
        }
    }

    private void assertTheNextRequestIsServed(RawConnection c) throws Exception {
        c.send("GET /ok HTTP/1.1\r\nHost: client.example\r\n\r\n");
        RawConnection.Response r = c.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("ok");
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

    /** Captures every response body (as the registration route does) and keeps nothing. */
    private static final class CapturingTap implements ResponseTap {
        @Override
        public int onHead(HttpResponse head) {
            return 64 << 10;
        }

        @Override
        public CompletionStage<Void> onBody(HttpResponse head, ByteBuf body) {
            return CompletableFuture.completedFuture(null);
        }
    }

    /**
     * A blocking HTTP/1.1 origin on loopback for GET requests, by the end of the path:
     * <ul>
     *   <li>{@code /stall[?chunked|?close-delimited]}: a head announcing {@link #STALL_LENGTH}
     *       bytes (or a chunked body, or one ended by closing) and {@link #STALL_SENT} of them, then
     *       silence until the connection is closed, which {@link #awaitClosedWhileStalled} counts;</li>
     *   <li>{@code /drip}: five body bytes, one every 300 ms;</li>
     *   <li>{@code /events}: a chunked event stream of two events 1.5 s apart;</li>
     *   <li>anything else: {@code ok}.</li>
     * </ul>
     * Thread-safe.
     */
    static final class ScriptedUpstream implements AutoCloseable {

        static final long STALL_LENGTH = 1000;
        static final int STALL_SENT = 10;

        private final ServerSocket server;
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "scripted-upstream");
            t.setDaemon(true);
            return t;
        });
        private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        private final AtomicInteger closedWhileStalled = new AtomicInteger();

        ScriptedUpstream() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            threads.execute(this::accept);
        }

        int port() {
            return server.getLocalPort();
        }

        /** Waits (up to 5 s) until {@code n} stalled responses saw their connection closed by the gateway. */
        void awaitClosedWhileStalled(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (closedWhileStalled.get() < n && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(closedWhileStalled.get()).as("upstream connections closed while stalled").isEqualTo(n);
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    sockets.add(s);
                    threads.execute(() -> serve(s));
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = new BufferedInputStream(s.getInputStream());
                OutputStream out = s.getOutputStream();
                String target;
                while ((target = readRequestTarget(in)) != null) {
                    if (!answer(target, in, out)) {
                        return;
                    }
                }
            } catch (IOException | InterruptedException gone) {
                // the gateway closed the connection, or the test is over
            } finally {
                sockets.remove(s);
            }
        }

        /** @return false when the connection is over */
        private boolean answer(String target, InputStream in, OutputStream out) throws IOException, InterruptedException {
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            if (path.endsWith("/stall")) {
                if (target.endsWith("?chunked")) {
                    write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + Integer.toHexString(STALL_SENT) + "\r\n0123456789\r\n");
                } else if (target.endsWith("?close-delimited")) {
                    write(out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n0123456789");
                } else {
                    write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + STALL_LENGTH + "\r\n\r\n0123456789");
                }
                try {
                    while (in.read() >= 0) {
                        // nothing more is expected from the gateway on this connection
                    }
                } catch (IOException reset) {
                    // closed all the same
                }
                closedWhileStalled.incrementAndGet();
                return false;
            }
            if (path.endsWith("/drip")) {
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
                for (char b = 'a'; b <= 'e'; b++) {
                    Thread.sleep(300);
                    write(out, String.valueOf(b));
                }
                return true;
            }
            if (path.endsWith("/events")) {
                write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + chunk("data: one\n\n"));
                Thread.sleep(1500);
                write(out, chunk("data: two\n\n") + "0\r\n\r\n");
                return true;
            }
            write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            return true;
        }

        private static String chunk(String text) {
            return Integer.toHexString(text.length()) + "\r\n" + text + "\r\n";
        }

        private static void write(OutputStream out, String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** The target of the next request (its head is read whole; requests carry no body), or null at the end. */
        private static String readRequestTarget(InputStream in) throws IOException {
            String requestLine = null;
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                String text = line.toString(StandardCharsets.ISO_8859_1).strip();
                line.reset();
                if (requestLine == null) {
                    requestLine = text;
                } else if (text.isEmpty()) {
                    return requestLine.split(" ")[1];
                }
            }
            return null;
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            threads.shutdownNow();
        }
    }
}
