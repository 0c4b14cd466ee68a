package dev.scopegate.admin;

import dev.scopegate.Gateway;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ConfigReloader;
import dev.scopegate.ops.Harness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The admin listener's access rules on a running gateway: {@code /metrics}, {@code /healthz} and
 * {@code /readyz} always open; {@code /admin/*} behind the bearer token when one is set; and no
 * start at all with {@code /admin/*} on a non-loopback address without a token.
 */
class AdminAuthTest {

    static final String TOKEN = "adm1n-t0ken-for-tests";

    @TempDir
    Path dir;
    Harness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void withATokenAdminNeedsItAndTheProbesStayOpen() throws Exception {
        h = new Harness(dir);
        h.env.put("ADMIN_TOKEN", TOKEN);
        h.start(h.yaml("", "admin: {host: 127.0.0.1, port: 0, token: \"${ADMIN_TOKEN}\"}"));
        String clientId = h.register("worker:read");

        assertThat(h.get(h.admin() + "/metrics").statusCode()).isEqualTo(200);
        assertThat(h.get(h.admin() + "/healthz").statusCode()).isEqualTo(200);
        assertThat(h.get(h.admin() + "/readyz").statusCode()).isEqualTo(200);

        for (String path : new String[]{"/admin/clients/" + clientId, "/admin/explain?client_id=" + clientId}) {
            HttpResponse<String> none = h.get(h.admin() + path);
            assertThat(none.statusCode()).as(path).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
            assertThat(h.get(h.admin() + path, "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
            assertThat(h.get(h.admin() + path, "Authorization", "Basic " + TOKEN).statusCode()).isEqualTo(401);
            assertThat(h.get(h.admin() + path, "Authorization", "Bearer " + TOKEN).statusCode()).as(path).isEqualTo(200);
        }
        assertThat(h.delete(h.admin() + "/admin/clients/" + clientId).statusCode()).isEqualTo(401);
        assertThat(h.get(h.admin() + "/admin/clients/" + clientId, "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(200); // not deleted by the refused call
        assertThat(h.delete(h.admin() + "/admin/clients/" + clientId, "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(204);
        assertThat(h.get(h.admin() + "/admin/clients/" + clientId, "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(404);

        // The token is reloadable: a new one replaces the old at once.
        h.env.put("ADMIN_TOKEN", "rotated-token");
        h.gateway.reload();
        assertThat(h.get(h.admin() + "/admin/explain?client_id=x", "Authorization", "Bearer " + TOKEN).statusCode())
                .isEqualTo(401);
        assertThat(h.get(h.admin() + "/admin/explain?client_id=x", "Authorization", "Bearer rotated-token").statusCode())
                .isEqualTo(200);
        // The token never shows in /metrics.
        assertThat(h.get(h.admin() + "/metrics").body()).doesNotContain(TOKEN).doesNotContain("rotated-token");
    }

    @Test
    void theTokenFromTokenFileIsReadAgainOnReload() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        h = new Harness(dir);
        h.start(h.yaml("", "admin: {host: 127.0.0.1, port: 0, token-file: \"" + tokenFile + "\"}"));
        String explain = h.admin() + "/admin/explain?client_id=x";

        assertThat(h.get(explain).statusCode()).isEqualTo(401);
        assertThat(h.get(explain, "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);

        // A rotated secret (Kubernetes swaps the mounted file) is read by the next reload (SIGHUP).
        Files.writeString(tokenFile, "rotated-in-the-file\n");
        assertThat(h.gateway.reload()).isInstanceOf(ConfigReloader.Outcome.Applied.class);
        assertThat(h.get(explain, "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(401);
        assertThat(h.get(explain, "Authorization", "Bearer rotated-in-the-file").statusCode()).isEqualTo(200);

        // A file gone missing rejects the reload, naming key and file; the running token stays.
        Files.delete(tokenFile);
        assertThat(h.gateway.reload()).isInstanceOfSatisfying(ConfigReloader.Outcome.Rejected.class,
                r -> assertThat(r.errors()).singleElement().asString()
                        .contains("admin.token-file: '" + tokenFile + "' does not exist"));
        assertThat(h.get(explain, "Authorization", "Bearer rotated-in-the-file").statusCode()).isEqualTo(200);
        assertThat(h.get(h.admin() + "/metrics").body()).doesNotContain(TOKEN).doesNotContain("rotated-in-the-file");
    }

    @Test
    void withoutATokenOnLoopbackAdminIsOpen() throws Exception {
        h = new Harness(dir);
        h.start(h.yaml("", ""));
        assertThat(h.get(h.admin() + "/admin/explain?client_id=x").statusCode()).isEqualTo(200);
        assertThat(h.get(h.admin() + "/admin/clients/unknown").statusCode()).isEqualTo(404);
        assertThat(h.get(h.admin() + "/admin/explain").statusCode()).isEqualTo(400); // client_id required
    }

    @Test
    void refusesToStartWithAdminOnANonLoopbackAddressWithoutAToken() throws Exception {
        h = new Harness(dir);
        for (String host : new String[]{"0.0.0.0", "::"}) {
            Path file = dir.resolve("public-admin.yaml");
            Files.writeString(file, h.yaml("", "admin: {host: \"" + host + "\", port: 0, token: \"\"}"));
            var config = new ConfigLoader(Map.<String, String>of()::get).load(file);
            assertThatThrownBy(() -> Gateway.start(config))
                    .as(host)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("admin.token is empty");
            assertThatThrownBy(() -> Gateway.start(file, Map.<String, String>of()::get))
                    .isInstanceOf(IllegalStateException.class);
        }
    }
}
