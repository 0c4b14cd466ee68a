package dev.scopegate.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A registration whose 201 reached the client survives a {@code kill -9} of the gateway JVM: the
 * gateway runs as a separate process, is killed right after the answer arrives, and a new
 * process finds the client's scopes on the reconnect without scope.
 */
class KillNineTest {

    @TempDir
    Path dir;
    IdpStandIn idp;
    Process gateway;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.destroyForcibly();
        }
        if (idp != null) {
            idp.close();
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    Process startGateway(Path config) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                "dev.scopegate.Cli", "--config", config.toString())
                .redirectErrorStream(true);
        Process p = pb.start();
        // drain the output so the child never blocks on a full pipe
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                while (r.readLine() != null) {
                    // discard
                }
            } catch (Exception ignored) {
                // the process was killed
            }
        });
        t.setDaemon(true);
        t.start();
        return p;
    }

    void waitReady(int adminPort) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (Exception notYet) {
                // starting
            }
            Thread.sleep(50);
        }
        throw new AssertionError("gateway not ready in time");
    }

    @Test
    void acknowledgedRegistrationsSurviveKillNine() throws Exception {
        idp = new IdpStandIn();
        int port = freePort();
        int adminPort = freePort();
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, """
                listen: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: %d}
                upstream: {url: "%s"}
                store: {path: "%s"}
                """.formatted(port, adminPort, idp.base(), dir.resolve("data").toString().replace("\\", "/")));
        gateway = startGateway(config);
        waitReady(adminPort);

        List<String> clients = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth/register"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"redirect_uris\":[\"https://chatgpt.com/cb\"],\"scope\":\"worker:read people:read\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(201);
            clients.add(dev.scopegate.testing.TestHttp.field(r.body(), "client_id"));
        }
        gateway.destroyForcibly(); // SIGKILL right after the last 201 reached us
        assertThat(gateway.waitFor(10, TimeUnit.SECONDS)).isTrue();

        gateway = startGateway(config);
        waitReady(adminPort);
        for (String id : clients) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/oauth/authorize?response_type=code&client_id=" + id + "&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fcb&state=x"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(302);
            assertThat(idp.authorizeQueries.get(idp.authorizeQueries.size() - 1)).endsWith("&scope=worker%3Aread%20people%3Aread");
        }
    }
}
