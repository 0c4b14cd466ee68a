package dev.scopegate.it;

import dev.scopegate.ops.Scrape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SIGTERM to a real gateway process with a slow request in flight: {@code /readyz} says 503
 * (draining) at once, the listener still answers what a load balancer sends meanwhile (with
 * {@code Connection: close}), the slow request completes, and once the drain is over new
 * connections are refused and the process exits.
 */
class SigtermDrainTest {

    @TempDir
    Path dir;
    IdpStandIn idp;
    Process gateway;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.destroyForcibly();
        }
        if (idp != null) {
            idp.slowGate.countDown();
            idp.close();
        }
    }

    @Test
    void readinessFlipsAtOnceTheSlowRequestCompletesThenTheListenerCloses() throws Exception {
        idp = new IdpStandIn();
        idp.slowGate = new CountDownLatch(1);
        int port = KillNineTest.freePort();
        int adminPort = KillNineTest.freePort();
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, """
                listen: {host: 127.0.0.1, port: %d, drain-timeout: 20s}
                admin: {host: 127.0.0.1, port: %d}
                upstream: {url: "%s"}
                store: {path: "%s"}
                """.formatted(port, adminPort, idp.base(), dir.resolve("data").toString().replace("\\", "/")));
        KillNineTest starter = new KillNineTest();
        gateway = starter.startGateway(config);
        starter.waitReady(adminPort);

        CompletableFuture<HttpResponse<String>> slow = http.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        while (idp.slowRequests.get() == 0) {
            Thread.sleep(5);
        }

        assertThat(readyGauge(adminPort)).isEqualTo(1);
        gateway.destroy(); // SIGTERM
        HttpResponse<String> ready = awaitNotReady(adminPort);
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("\"draining\" : true").contains("\"ready\" : false");
        assertThat(readyGauge(adminPort)).as("scopegate_ready while draining").isZero();
        assertThat(slow).isNotDone();

        // A request that a load balancer still sends during the drain is answered, then closed.
        String late = exchange(port, "GET /late HTTP/1.1\r\nHost: gw\r\n\r\n");
        assertThat(late).startsWith("HTTP/1.1 200").containsIgnoringCase("connection: close");

        idp.slowGate.countDown();
        HttpResponse<String> done = slow.get(20, TimeUnit.SECONDS);
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).isEqualTo("slow and done");

        assertThat(gateway.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
    }

    private double readyGauge(int adminPort) throws Exception {
        return Scrape.parse(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body()).value("scopegate_ready");
    }

    private HttpResponse<String> awaitNotReady(int adminPort) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200 || System.nanoTime() > deadline) {
                return r;
            }
            Thread.sleep(5);
        }
    }

    /** One raw request on a new connection; everything the gateway sent until it closed. */
    private static String exchange(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
