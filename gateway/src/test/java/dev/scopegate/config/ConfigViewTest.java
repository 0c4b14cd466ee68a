package dev.scopegate.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ConfigView}: the effective config in the file's own keys and notation, every secret
 * redacted.
 */
class ConfigViewTest {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Nearly every key, none secret: the view, written back as a file, loads to the same config. */
    static final String FULL = """
            listen: {host: 127.0.0.2, port: 8443, drain-timeout: 1500ms}
            admin: {host: 127.0.0.1, port: 9000, token: ""}
            public-base-url: https://my-domain
            trusted-proxies: [10.0.0.0/8, "::1"]
            upstream: {url: "https://idp.internal:9443/base", connect-timeout: 500ms, response-timeout: 1h,
                       max-connections: 7, idle-timeout: 90, rewrite-host: true}
            routes:
              - {prefix: /mcp, url: "http://127.0.0.1:3000"}
            metadata: {refresh: 1m, augment: {scopes-supported: [openid, "worker:read"], rewrite-origin: true}}
            endpoints: {authorization: /oauth/authorize, token: /oauth/token}
            scope:
              trigger: missing
              sources: [default, server, client]
              default: "openid profile"
              deny: [offline_access, "admin:*"]
              on-unresolved: reject
              dry-run: true
              clients: {"811703c8-c50a": "worker:read", "https://app.example/client.json": openid}
              families:
                - {name: chatgpt.com, redirect-hosts: [chatgpt.com], scope: "worker:read"}
              learn: {authorize: false, token: true}
              document: {allow-private: true, max-bytes: 2048, timeout: 250ms}
            resources:
              - {resource: "https://my-domain/mcp", scopes-supported: ["worker:read"]}
            limits: {max-header-bytes: 2000, max-form-bytes: 4000}
            store: {type: redis, path: /var/lib/scopegate, redis: {uri: "rediss://redis:6380", key-prefix: "sg:"}}
            cache: {registrations: {max-size: 10, expire-after-access: 30d}}
            logging: {access: false, json: true}
            health: {host: 127.0.0.1, port: 9091, store-required: true}
            """;

    @TempDir
    Path dir;

    static ScopegateConfig parse(String yaml) throws ConfigException {
        return new ConfigLoader(name -> null).parse(yaml, "t.yaml");
    }

    @Test
    void theViewIsTheConfigInTheFilesOwnKeysAndNotation() throws Exception {
        for (ScopegateConfig c : List.of(parse(FULL), new ConfigLoader(n -> null).load(Path.of("../config/scopegate.yaml")),
                ConfigLoader.defaults())) {
            Map<String, Object> view = ConfigView.of(c);
            @SuppressWarnings("unchecked")
            Map<String, Object> redis = (Map<String, Object>) ((Map<String, Object>) view.get("store")).get("redis");
            assertThat(redis.remove("password")).isNull(); // read from password-file: not a key one writes

            String asFile = JSON.writeValueAsString(view); // JSON is YAML
            assertThat(parse(asFile)).isEqualTo(c);
        }
    }

    @Test
    void keysAndValuesReadLikeTheFile() throws Exception {
        JsonNode v = JSON.valueToTree(ConfigView.of(parse(FULL)));

        assertThat(v.fieldNames()).toIterable().containsExactly("listen", "admin", "public-base-url", "trusted-proxies",
                "upstream", "routes", "metadata", "compat", "endpoints", "scope", "resources", "limits", "store", "cache",
                "logging", "health");
        assertThat(v.at("/compat/resource-parameter").asText()).isEqualTo("forward");
        assertThat(v.at("/listen/drain-timeout").asText()).isEqualTo("1500ms");
        assertThat(v.at("/upstream/idle-timeout").asText()).isEqualTo("90s");
        assertThat(v.at("/cache/registrations/expire-after-access").asText()).isEqualTo("30d");
        assertThat(v.at("/scope/trigger").asText()).isEqualTo("missing");
        assertThat(v.at("/scope/on-unresolved").asText()).isEqualTo("reject");
        assertThat(v.at("/scope/default").asText()).isEqualTo("openid profile");
        assertThat(v.at("/scope/learn/token").asBoolean()).isTrue(); // a boolean named token: not a secret
        assertThat(v.at("/endpoints/token").asText()).isEqualTo("/oauth/token"); // a path named token
        assertThat(v.at("/endpoints/par").isNull()).isTrue();
        assertThat(v.at("/trusted-proxies/0").asText()).isEqualTo("10.0.0.0/8");
        assertThat(v.at("/scope/clients/https:~1~1app.example~1client.json").asText()).isEqualTo("openid");
        assertThat(v.at("/health/port").asInt()).isEqualTo(9091);
        assertThat(v.at("/admin/token").asText()).isEmpty(); // no token: shown as empty, not as ***
    }

    @Test
    void noSecretSurvives() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("admin-token"), "adm1n-t0ken-in-a-file\n");
        Path passwordFile = Files.writeString(dir.resolve("redis-password"), "redis-pa55-in-a-file\n");
        ScopegateConfig fromFiles = parse("""
                admin: {token-file: "%s"}
                store: {redis: {uri: "redis://app:@redis:6379/0", password-file: "%s"}}
                """.formatted(tokenFile, passwordFile));
        ScopegateConfig inline = new ConfigLoader(Map.of("T", "inline-adm1n-t0ken")::get).parse("""
                admin: {token: "${T}"}
                store: {redis: {uri: "rediss://app:uri-pa55word@redis:6380/0?timeout=2s"}}
                """, "t.yaml");

        JsonNode a = JSON.valueToTree(ConfigView.of(fromFiles));
        assertThat(JSON.writeValueAsString(a)).doesNotContain("adm1n-t0ken").doesNotContain("redis-pa55");
        assertThat(a.at("/admin/token").asText()).isEqualTo("***");
        assertThat(a.at("/admin/token-file").asText()).isEqualTo(tokenFile.toString());
        assertThat(a.at("/store/redis/password").asText()).isEqualTo("***");
        assertThat(a.at("/store/redis/password-file").asText()).isEqualTo(passwordFile.toString());
        assertThat(a.at("/store/redis/uri").asText()).isEqualTo("redis://***@redis:6379/0");

        JsonNode b = JSON.valueToTree(ConfigView.of(inline));
        assertThat(JSON.writeValueAsString(b)).doesNotContain("inline-adm1n").doesNotContain("uri-pa55word");
        assertThat(b.at("/admin/token").asText()).isEqualTo("***");
        assertThat(b.at("/store/redis/uri").asText()).isEqualTo("rediss://***@redis:6380/0?timeout=2s");
        assertThat(b.at("/store/redis/password").isNull()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
        "admin.token, x, true",
        "admin.token, '', false",
        "store.redis.password, x, true",
        "upstream.client-secret, x, true",
        "upstream.tls.key-password, x, true",
        "a.bearer-token, x, true",
        "admin.token-file, /run/secrets/t, false",
        "store.redis.password-file, /run/secrets/p, false",
        "endpoints.token, /oauth/token, false",
        "scope.default, token, false",
    })
    void secretsGoByKeyName(String path, String value, boolean secret) {
        assertThat(ConfigView.secret(path, value)).isEqualTo(secret);
    }

    @ParameterizedTest
    @CsvSource({"PT0S, 0s", "PT0.5S, 500ms", "PT1.5S, 1500ms", "PT2S, 2s", "PT90S, 90s", "PT5M, 5m", "PT1H, 1h",
        "PT720H, 30d", "PT25H, 25h"})
    void durationsAreWrittenAsTheFileWritesThem(String iso, String written) {
        assertThat(ConfigView.duration(Duration.parse(iso))).isEqualTo(written);
    }
}
