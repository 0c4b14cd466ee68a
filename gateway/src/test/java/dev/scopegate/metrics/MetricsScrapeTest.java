package dev.scopegate.metrics;

import dev.scopegate.ops.Harness;
import dev.scopegate.ops.Scrape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real traffic through a running gateway, then a scrape of {@code /metrics}: every counter and
 * the upstream-latency histogram moved by exactly what the traffic implies.
 */
class MetricsScrapeTest {

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
    void countersAndHistogramMoveByExactlyTheTraffic() throws Exception {
        double startedAt = System.currentTimeMillis() / 1000.0;
        h = new Harness(dir).start(new Harness(dir).yaml("", ""));
        Scrape before = h.scrape();

        String registered = h.register("worker:read");                                   // registration POST 201
        assertThat(h.authorize(registered, "s1", "people%3Aread").statusCode()).isEqualTo(302); // unchanged
        assertThat(h.authorize(registered, "s2", null).statusCode()).isEqualTo(302);      // rewrite: registered
        assertThat(h.authorize("never-seen", "s3", null).statusCode()).isEqualTo(400);    // unresolved, forwarded
        for (int i = 0; i < 3; i++) {
            assertThat(h.get(h.gw() + "/hello/" + i).statusCode()).isEqualTo(200);        // pass-through
        }
        assertThat(h.get(h.gw() + "/boom").statusCode()).isEqualTo(500);
        assertThat(h.get(h.gw() + "/.well-known/oauth-authorization-server").statusCode()).isEqualTo(200); // from cache

        // The counters move when each exchange ends, just after its response was written.
        Harness.waitFor(() -> delta(before, "scopegate_requests_total") >= 9);
        Scrape after = h.scrape();

        assertThat(d(before, after, "scopegate_requests_total")).isEqualTo(9);
        assertThat(d(before, after, "scopegate_requests_total", "route", "registration", "method", "POST", "status", "2xx")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_requests_total", "route", "authorize", "method", "GET", "status", "3xx")).isEqualTo(2);
        assertThat(d(before, after, "scopegate_requests_total", "route", "authorize", "method", "GET", "status", "4xx")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_requests_total", "route", "pass-through", "method", "GET", "status", "2xx")).isEqualTo(3);
        assertThat(d(before, after, "scopegate_requests_total", "route", "pass-through", "method", "GET", "status", "5xx")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_requests_total", "route", "metadata", "method", "GET", "status", "2xx")).isEqualTo(1);

        // Eight exchanges went upstream (the metadata one was served from the cache).
        assertThat(d(before, after, "scopegate_upstream_latency_seconds_count")).isEqualTo(8);
        assertThat(d(before, after, "scopegate_upstream_latency_seconds_bucket", "le", "+Inf")).isEqualTo(8);
        assertThat(d(before, after, "scopegate_upstream_latency_seconds_bucket", "le", "10.0")).isEqualTo(8);
        assertThat(after.sum("scopegate_upstream_latency_seconds_sum")).isGreaterThan(before.sum("scopegate_upstream_latency_seconds_sum"));
        assertThat(after.has("scopegate_upstream_latency_seconds_bucket", "le", "0.001")).isTrue();
        // … by route: three authorize, one registration, four pass-through; every route has its histogram.
        assertThat(d(before, after, "scopegate_upstream_latency_seconds_count", "route", "authorize")).isEqualTo(3);
        assertThat(d(before, after, "scopegate_upstream_latency_seconds_count", "route", "registration")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_upstream_latency_seconds_count", "route", "pass-through")).isEqualTo(4);
        assertThat(d(before, after, "scopegate_upstream_latency_seconds_bucket", "route", "pass-through", "le", "+Inf"))
                .isEqualTo(4);
        for (String route : new String[]{"authorize", "par", "registration", "registration-management", "token",
                "metadata", "pass-through", "extra-route"}) {
            assertThat(after.has("scopegate_upstream_latency_seconds_count", "route", route)).as(route).isTrue();
        }

        assertThat(d(before, after, "scopegate_rewrites_total")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_rewrites_total", "source", "registered", "family", "chatgpt")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_rewrite_unresolved_total")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_rewrite_unresolved_total", "family", "chatgpt", "action", "forward")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_registrations_total", "event", "captured")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_registrations_total", "event", "rejected")).isZero();
        assertThat(d(before, after, "scopegate_bodies_over_cap_total")).isZero();
        assertThat(d(before, after, "scopegate_store_errors_total")).isZero();

        assertThat(after.value("scopegate_metadata_ready")).isEqualTo(1);
        assertThat(after.value("scopegate_metadata_refreshes_total")).isGreaterThanOrEqualTo(1);
        assertThat(after.value("scopegate_metadata_age_seconds")).isGreaterThanOrEqualTo(0);
        assertThat(after.value("scopegate_metadata_last_success_timestamp_seconds"))
                .isBetween(startedAt - 1, System.currentTimeMillis() / 1000.0 + 1);
        assertThat(after.value("scopegate_ready")).isEqualTo(1);
        // Upstream-error counters exist at zero from the start (an alert's rate() sees the first fault).
        assertThat(after.value("scopegate_upstream_errors_total", "kind", "connect_error")).isZero();
        assertThat(after.value("scopegate_upstream_errors_total", "kind", "response_timeout")).isZero();
        assertThat(after.sum("scopegate_cache_gets_total", "cache", "registrations"))
                .isGreaterThan(before.sum("scopegate_cache_gets_total", "cache", "registrations"));
        // The never-seen client: one lookup the registrations could not answer, now remembered apart.
        assertThat(d(before, after, "scopegate_cache_gets_total", "cache", "unknown-clients", "result", "miss")).isEqualTo(1);
        assertThat(after.value("scopegate_cache_size", "cache", "unknown-clients")).isEqualTo(1);
        assertThat(after.has("scopegate_cache_evictions_total", "cache", "unknown-clients")).isTrue();
        assertThat(after.names()).contains("scopegate_cache_size", "scopegate_cache_evictions_total",
                "scopegate_connections_open", "scopegate_config_reloads_total",
                "scopegate_config_reload_failures_total", "jvm_memory_used_bytes", "process_cpu_usage",
                "process_uptime_seconds");
    }

    @Test
    void dryRunDecisionsAreCountedOnlyAsDryRunWithTheirFamily() throws Exception {
        h = new Harness(dir).start(new Harness(dir).yaml("  dry-run: true", ""));
        Scrape before = h.scrape();
        // Declared at zero, like the rewrite counters, for each configured family and source.
        assertThat(before.has("scopegate_rewrites_dry_run_total", "source", "registered", "family", "chatgpt")).isTrue();
        assertThat(before.has("scopegate_rewrites_dry_run_total", "source", "default", "family", "other")).isTrue();

        String registered = h.register("worker:read");
        // Decided (registered scope) but forwarded unchanged: the test IdP refuses it without scope.
        assertThat(h.authorize(registered, "s1", null).statusCode()).isEqualTo(400);
        assertThat(h.idp.lastAuthorizeQuery()).doesNotContain("scope=");
        Harness.waitFor(() -> delta(before, "scopegate_requests_total", "route", "authorize") >= 1);
        Scrape after = h.scrape();

        assertThat(d(before, after, "scopegate_rewrites_dry_run_total")).isEqualTo(1);
        assertThat(d(before, after, "scopegate_rewrites_dry_run_total", "source", "registered", "family", "chatgpt"))
                .isEqualTo(1);
        assertThat(d(before, after, "scopegate_rewrites_total")).as("no request was changed").isZero();
    }

    @Test
    void noLabelCarriesAClientIdOrARawPath() throws Exception {
        h = new Harness(dir).start(new Harness(dir).yaml("  default: \"worker:read\"", ""));
        String clientId = h.register(null);
        h.authorize(clientId, "s", null);
        h.get(h.gw() + "/some/raw/path-12345");
        Harness.waitFor(() -> {
            try {
                return h.scrape().has("scopegate_requests_total", "route", "pass-through");
            } catch (Exception e) {
                return false;
            }
        });
        String text = h.get(h.admin() + "/metrics").body();
        assertThat(text).doesNotContain(clientId).doesNotContain("path-12345").doesNotContain("never-seen");
    }

    private double delta(Scrape before, String name, String... labels) {
        try {
            return d(before, h.scrape(), name, labels);
        } catch (Exception e) {
            return -1;
        }
    }

    private static double d(Scrape before, Scrape after, String name, String... labels) {
        return after.sum(name, labels) - before.sum(name, labels);
    }
}
