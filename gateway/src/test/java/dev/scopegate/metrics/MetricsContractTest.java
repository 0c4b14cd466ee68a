package dev.scopegate.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.scopegate.ops.DockerFiles;
import dev.scopegate.ops.DockerFilesTest;
import dev.scopegate.ops.Harness;
import dev.scopegate.ops.Scrape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard and the alert rules cannot drift from the code: every metric name their PromQL
 * reads exists in a real scrape of a gateway that served ordinary traffic.
 */
class MetricsContractTest {

    /** Series Prometheus makes itself for each target, not the application. */
    static final Set<String> SYNTHESIZED_BY_PROMETHEUS = Set.of("up");

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
    void everyMetricOfTheDashboardAndTheAlertsIsScraped() throws Exception {
        Path docker = DockerFiles.dir();
        Set<String> used = new TreeSet<>();
        JsonNode dash = new ObjectMapper().readTree(docker.resolve("grafana/dashboards/scopegate.json").toFile());
        for (JsonNode expr : dash.findValues("expr")) {
            used.addAll(DockerFilesTest.metricNames(expr.asText()));
        }
        int fromDashboard = used.size();
        JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(docker.resolve("prometheus/alerts.yml").toFile());
        for (JsonNode expr : rules.findValues("expr")) {
            used.addAll(DockerFilesTest.metricNames(expr.asText()));
        }
        assertThat(fromDashboard).isGreaterThan(15);
        assertThat(used).contains("scopegate_requests_total", "scopegate_upstream_latency_seconds_bucket",
                "scopegate_rewrites_total", "scopegate_rewrites_dry_run_total", "scopegate_rewrite_unresolved_total",
                "scopegate_cache_gets_total", "scopegate_registrations_total", "scopegate_metadata_age_seconds",
                "scopegate_metadata_last_success_timestamp_seconds", "scopegate_metadata_waits_total",
                "scopegate_upstream_errors_total", "scopegate_refusals_total", "scopegate_ready",
                "scopegate_config_reload_failures_total", "scopegate_store_errors_total", "scopegate_log_dropped_total");

        h = new Harness(dir);
        h.start(h.yaml("", ""));
        String client = h.register(null);
        h.firstConnect(client, "worker%3Aread");                       // learned: authorize + code exchange
        h.authorize(client, "rewrite", null);                          // rewrite: learned
        h.authorize("never-seen", "unresolved", null);                 // unresolved
        h.get(h.gw() + "/oauth/authorize?client_id=a&client_id=b");    // skip: client_id repeated
        h.get(h.gw() + "/boom");                                       // 5xx
        h.get(h.gw() + "/" + "x".repeat(20_000));                      // refusal: uri-too-long
        Harness.waitFor(() -> {
            try {
                Scrape s = h.scrape();
                return s.has("scopegate_rewrite_skips_total") && s.has("scopegate_scopes_learned_total")
                        && s.has("scopegate_refusals_total")
                        && s.sum("scopegate_requests_total", "status", "5xx") == 1;
            } catch (Exception e) {
                return false;
            }
        });
        Scrape scrape = h.scrape();

        Set<String> missing = new TreeSet<>(used);
        missing.removeAll(scrape.names());
        missing.removeAll(SYNTHESIZED_BY_PROMETHEUS);
        assertThat(missing).as("metrics used by docker/grafana and docker/prometheus but absent from /metrics").isEmpty();
    }
}
