package dev.scopegate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scopegate.config.ConfigReloader;
import dev.scopegate.ops.Harness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /admin/config} on a running gateway: the effective config as JSON, behind the admin
 * token like the rest of {@code /admin/*}, with no secret value anywhere in the answer.
 */
class AdminConfigTest {

    static final String ADMIN_TOKEN = "adm1n-t0ken-from-a-file";
    static final String REDIS_PASSWORD = "redis-pa55word-from-a-file";
    static final String ENV_SCOPE = "scope-from-the-environment";

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
    void theEffectiveConfigIsServedWithEverySecretRedacted() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("admin-token"), ADMIN_TOKEN + "\n");
        Path passwordFile = Files.writeString(dir.resolve("redis-password"), REDIS_PASSWORD + "\n");
        h = new Harness(dir);
        h.env.put("SCOPE", ENV_SCOPE);
        String extra = """
                admin: {host: 127.0.0.1, port: 0, token-file: "%s"}
                logging: {access: false}
                """.formatted(tokenFile);
        String text = h.yaml("  default: \"${SCOPE}\"", extra)
                .replace("store: {type: embedded, path: \"", "store: {type: embedded, redis: {uri: \"redis://app:@redis:6379/0\","
                        + " password-file: \"" + passwordFile + "\"}, path: \"");
        h.start(text);
        String url = h.admin() + "/admin/config";

        assertThat(h.get(url).statusCode()).isEqualTo(401);
        HttpResponse<String> r = h.get(url, "Authorization", "Bearer " + ADMIN_TOKEN);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).doesNotContain(ADMIN_TOKEN).doesNotContain(REDIS_PASSWORD);

        JsonNode c = new ObjectMapper().readTree(r.body());
        assertThat(c.at("/admin/token").asText()).isEqualTo("***");
        assertThat(c.at("/admin/token-file").asText()).isEqualTo(tokenFile.toString());
        assertThat(c.at("/store/redis/password").asText()).isEqualTo("***");
        assertThat(c.at("/store/redis/password-file").asText()).isEqualTo(passwordFile.toString());
        assertThat(c.at("/store/redis/uri").asText()).isEqualTo("redis://***@redis:6379/0");
        assertThat(c.at("/upstream/url").asText()).isEqualTo(h.idp.base());
        assertThat(c.at("/scope/default").asText()).isEqualTo(ENV_SCOPE); // interpolated: the value in effect
        assertThat(c.at("/logging/access").asBoolean()).isFalse();
        assertThat(c.at("/health/store-required").asBoolean()).isFalse();
        assertThat(h.delete(url, "Authorization", "Bearer " + ADMIN_TOKEN).statusCode()).isEqualTo(405);

        // Effective means what runs: a live key changes at once, a restart-only one keeps its running value.
        Files.writeString(h.file, text.replace("logging: {access: false}", "logging: {access: true}")
                .replace("store: {type: embedded,", "store: {type: redis,"));
        assertThat(h.gateway.reload()).isInstanceOfSatisfying(ConfigReloader.Outcome.Applied.class,
                a -> assertThat(a.restartRequired()).containsExactly("store.type"));
        JsonNode after = new ObjectMapper().readTree(h.get(url, "Authorization", "Bearer " + ADMIN_TOKEN).body());
        assertThat(after.at("/logging/access").asBoolean()).isTrue();
        assertThat(after.at("/store/type").asText()).isEqualTo("embedded");
    }
}
