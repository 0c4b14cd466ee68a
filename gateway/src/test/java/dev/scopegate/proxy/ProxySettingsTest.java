package dev.scopegate.proxy;

import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What the frontend reads per request, derived from the config once per (re)load. */
class ProxySettingsTest {

    private static ProxySettings settings(String yaml) throws Exception {
        ScopegateConfig config = new ConfigLoader(name -> null).parse(yaml, "t.yaml");
        return ProxySettings.from(config);
    }

    @Test
    void aRouteInheritsTheUpstreamReadTimeoutUnlessItSetsItsOwn() throws Exception {
        ProxySettings s = settings("""
                upstream: {read-timeout: 2s}
                routes:
                  - {prefix: /sse, url: "http://127.0.0.1:3000", read-timeout: 0}
                  - {prefix: /slow, url: "http://127.0.0.1:3001", read-timeout: 5m}
                  - {prefix: /mcp, url: "http://127.0.0.1:3002"}
                """);

        assertThat(s.select("/token").readTimeoutMillis()).isEqualTo(2_000);
        assertThat(s.select("/sse/events").readTimeoutMillis()).isZero();
        assertThat(s.select("/slow").readTimeoutMillis()).isEqualTo(300_000);
        assertThat(s.select("/mcp").readTimeoutMillis()).isEqualTo(2_000);
        assertThat(s.shortestReadTimeoutMillis()).isEqualTo(2_000);
    }

    @Test
    void theShortestReadTimeoutIgnoresTargetsWithoutOne() throws Exception {
        assertThat(settings("").shortestReadTimeoutMillis()).isEqualTo(60_000);
        assertThat(settings("upstream: {read-timeout: 0}").shortestReadTimeoutMillis()).isZero();
        assertThat(settings("""
                upstream: {read-timeout: 0}
                routes: [{prefix: /a, url: "http://127.0.0.1:3000", read-timeout: 750ms}]
                """).shortestReadTimeoutMillis()).isEqualTo(750);
    }

    @Test
    void onlyRoutesAChallengeResourceConcernsCarryChallenges() throws Exception {
        ProxySettings s = settings("""
                routes:
                  - {prefix: /mcp, url: "http://127.0.0.1:3000"}
                  - {prefix: /other, url: "http://127.0.0.1:3001"}
                  - {prefix: /quiet, url: "http://127.0.0.1:3002"}
                resources:
                  - {resource: "https://gw/mcp", scopes-supported: [a], challenge: true}
                  - {resource: "https://gw/quiet", scopes-supported: [b]}
                """);
        assertThat(s.select("/mcp").challenges()).isNotNull();
        assertThat(s.select("/mcp").plan("/mcp")).isNotSameAs(dev.scopegate.proxy.route.Plan.FORWARD);
        assertThat(s.select("/other").challenges()).isNull();
        assertThat(s.select("/quiet").challenges()).isNull();
        assertThat(s.select("/quiet").plan("/quiet")).isSameAs(dev.scopegate.proxy.route.Plan.FORWARD);
    }
}
