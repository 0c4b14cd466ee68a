package dev.scopegate.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The restart-only list, the secrets and the pinning are computed from the records' annotations. */
class ConfigChangesTest {

    private static final ConfigLoader LOADER = new ConfigLoader(name -> null);

    @Test
    void restartOnlyKeysAreTheComponentsMarkedRestart() {
        assertThat(ConfigChanges.RESTART_ONLY).containsExactly("listen", "admin.host", "admin.port", "public-base-url",
                "upstream.url", "upstream.connect-timeout", "upstream.max-connections", "upstream.idle-timeout",
                "upstream.tls", "metadata.issuers", "scope.document", "resources", "limits.max-header-bytes",
                "limits.max-initial-line-bytes", "store", "cache", "logging.json", "health.host", "health.port");
        assertThat(ConfigChanges.restartOnly("routes")).isFalse();
        assertThat(ConfigChanges.restartOnly("routes[0].url")).isFalse();
        assertThat(ConfigChanges.restartOnly("resources[0].resource")).isTrue();
        assertThat(ConfigChanges.restartOnly("listener")).isFalse();
        assertThat(ConfigChanges.secret("store.redis.password")).isTrue();
        assertThat(ConfigChanges.secret("admin.token-file")).isFalse();
    }

    @Test
    void pinningKeepsEveryRestartOnlyValueAndTakesEverythingElse() throws Exception {
        ScopegateConfig running = LOADER.parse("", "running");
        ScopegateConfig next = LOADER.parse("""
                listen: {port: 1}
                admin: {port: 2, token: t}
                upstream: {url: "http://other", max-connections: 3, response-timeout: 9s}
                routes: [{prefix: /mcp, url: "http://mcp"}]
                scope: {default: openid, document: {max-bytes: 2048}}
                limits: {max-header-bytes: 2048, max-form-bytes: 2048}
                cache: {unknown-clients: {max-size: 5}}
                logging: {json: true, access: false}
                health: {port: 3, store-required: true}
                """, "next");

        List<String> all = ConfigChanges.diff(running, next);
        List<String> live = ConfigChanges.diff(running, ConfigChanges.pinRestartOnly(running, next));

        assertThat(live).containsExactly("admin.token", "upstream.response-timeout", "routes", "scope.default",
                "limits.max-form-bytes", "logging.access", "health.store-required");
        assertThat(all).filteredOn(k -> !live.contains(k)).allMatch(ConfigChanges::restartOnly).hasSize(9);
    }
}
