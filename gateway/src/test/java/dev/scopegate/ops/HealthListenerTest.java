package dev.scopegate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scopegate.config.ConfigChanges;
import dev.scopegate.config.ConfigReloader;
import dev.scopegate.proxy.RawConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code health.port}: a second listener with the probes and metrics only, reachable by an
 * orchestrator while {@code /admin/*} stays on the loopback admin listener. Both listeners over
 * real sockets on a running gateway.
 */
class HealthListenerTest {

    static final String TOKEN = "health-test-admin-token";

    @TempDir
    Path dir;
    Harness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void theHealthListenerServesTheProbesAndMetricsAndNothingElse() throws Exception {
        int port = freePort();
        h = new Harness(dir);
        h.start(h.yaml("", "admin: {host: 127.0.0.1, port: 0, token: " + TOKEN + "}\n"
                + "health: {host: 127.0.0.1, port: " + port + "}"));
        assertThat(h.gateway.healthPort()).isEqualTo(port);
        String health = "http://127.0.0.1:" + port;
        String clientId = h.register("worker:read");

        assertThat(h.get(health + "/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = h.get(health + "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        JsonNode readyJson = new ObjectMapper().readTree(ready.body());
        assertThat(readyJson.fieldNames()).toIterable()
                .containsExactly("ready", "draining", "listening", "metadata", "store");
        assertThat(readyJson.get("store").asBoolean()).isTrue();
        HttpResponse<String> metrics = h.get(health + "/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("scopegate_requests_total").contains("scopegate_store_up 1.0");

        // Nothing of /admin/*, with or without the token; no other path; GET only.
        for (String path : new String[]{"/admin/clients/" + clientId, "/admin/explain?client_id=" + clientId,
                "/admin/config", "/admin/", "/", "/healthz/x", "/oauth/authorize"}) {
            assertThat(h.get(health + path).statusCode()).as(path).isEqualTo(404);
            assertThat(h.get(health + path, "Authorization", "Bearer " + TOKEN).statusCode()).as(path).isEqualTo(404);
        }
        assertThat(h.delete(health + "/admin/clients/" + clientId, "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(404);
        HttpResponse<String> post = h.post(health + "/readyz", "text/plain", "x");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET");

        // The admin listener keeps everything: the probes, and /admin/* behind the token.
        assertThat(h.get(h.admin() + "/readyz").statusCode()).isEqualTo(200);
        assertThat(h.get(h.admin() + "/metrics").body()).contains("scopegate_store_up 1.0");
        assertThat(h.get(h.admin() + "/admin/clients/" + clientId).statusCode()).isEqualTo(401);
        assertThat(h.get(h.admin() + "/admin/clients/" + clientId, "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(200);
        assertThat(h.get(h.admin() + "/admin/explain?client_id=x", "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(200);
    }

    @Test
    void keepAliveAndRawRequestsOnTheHealthListener() throws Exception {
        int port = freePort();
        h = new Harness(dir);
        h.start(h.yaml("", "health: {host: 127.0.0.1, port: " + port + "}"));

        try (RawConnection c = RawConnection.open(port)) {
            c.send("GET /healthz HTTP/1.1\r\nHost: probe\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
            c.send("GET /admin/explain?client_id=x HTTP/1.1\r\nHost: probe\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(404);
            c.send("GET /readyz HTTP/1.1\r\nHost: probe\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void withoutHealthPortThereIsNoSecondListenerAndItsPortNeedsARestart() throws Exception {
        h = new Harness(dir);
        h.start(h.yaml("", ""));
        assertThat(h.gateway.healthPort()).isZero();

        int port = freePort();
        Files.writeString(h.file, h.yaml("", "health: {host: 127.0.0.1, port: " + port + ", store-required: true}"));
        ConfigReloader.Outcome outcome = h.gateway.reload();
        assertThat(outcome).isInstanceOfSatisfying(ConfigReloader.Outcome.Applied.class, a -> {
            assertThat(a.changed()).containsExactly("health.store-required");
            assertThat(a.restartRequired()).containsExactly("health.host", "health.port");
        });
        assertThat(h.gateway.healthPort()).isZero();
        assertThat(h.status("http://127.0.0.1:" + port + "/healthz")).isEqualTo(-1); // nothing listens
        assertThat(ConfigChanges.restartOnly("health.host")).isTrue();
        assertThat(ConfigChanges.restartOnly("health.store-required")).isFalse();
    }
}
