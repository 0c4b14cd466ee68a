package dev.scopegate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard and the alert rules against the real thing: a real Prometheus server (Debian's
 * package; skipped where it is absent) scrapes a running gateway every second, with the alert
 * rules loaded, while a short bounded load exercises rewrites, a reload to dry-run and dry-run
 * decisions, a rejected reload, refusals, upstream errors, registrations and the token endpoint.
 * Then every panel's query of {@code docker/grafana/dashboards/scopegate.json}, with the
 * dashboard's variables substituted as Grafana would, must return data from Prometheus; the
 * panels the issue names must also show the events the load caused; every rule evaluates
 * without error, and the upstream-error alerts see the failures (pending, waiting on their
 * {@code for:}).
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class PrometheusDashboardTest {

    /** Bounds of the load: rounds and wall time, whichever ends first (but at least {@link #MIN_ROUNDS}). */
    static final int ROUNDS = 30;
    static final int MIN_ROUNDS = 6;
    static final Duration LOAD_TIME = Duration.ofSeconds(8);

    @TempDir
    Path dir;
    Harness h;
    Prometheus prom;

    @AfterEach
    void stop() {
        if (prom != null) {
            prom.close();
        }
        if (h != null) {
            h.close();
        }
    }

    @Test
    void everyPanelQueryReturnsDataFromARealPrometheusScrapingTheGateway() throws Exception {
        assumeTrue(Prometheus.binary("prometheus").isPresent(),
                "prometheus not installed (.ci/prometheus.sh installs Debian's package)");
        Path docker = DockerFiles.dir();
        JsonNode dashboard = new ObjectMapper().readTree(docker.resolve("grafana/dashboards/scopegate.json").toFile());

        Files.createDirectories(dir.resolve("gateway"));
        h = new Harness(dir.resolve("gateway"));
        int nothingListens = Prometheus.freePort();
        String routes = "routes:\n  - {prefix: /dead, url: \"http://127.0.0.1:" + nothingListens + "\"}\n";
        h.start(h.yaml("  dry-run: false", routes));
        String instance = "127.0.0.1:" + h.gateway.adminPort();
        prom = Prometheus.start(dir.resolve("prometheus"), instance, docker.resolve("prometheus/alerts.yml"));
        await("first scrape", () -> sumOf("up{job=\"scopegate\"}") == 1);

        // Phase 1: ordinary traffic, with a refusal, an upstream error and a 5xx in every round.
        long end = System.nanoTime() + LOAD_TIME.toNanos();
        String client = null;
        for (int round = 0; round < ROUNDS && (round < MIN_ROUNDS || System.nanoTime() < end); round++) {
            if (round % 10 == 0) {
                client = h.register(null);                                       // registration captured
                h.firstConnect(client, "worker%3Aread");                          // token: scope learned
            }
            h.authorize(client, "r" + round, null);                               // rewrite: learned
            h.authorize(client, "s" + round, "people%3Aread");                    // untouched
            h.authorize("never-seen", "u" + round, null);                         // unresolved
            h.get(h.gw() + "/oauth/authorize?client_id=a&client_id=b");           // skip
            h.get(h.gw() + "/.well-known/oauth-authorization-server");            // metadata from the cache
            h.get(h.gw() + "/hello/" + round);                                    // pass-through
            h.get(h.gw() + "/boom");                                              // 5xx from the IdP
            assertThat(h.get(h.gw() + "/dead/" + round).statusCode()).isEqualTo(502); // upstream connect error
            assertThat(h.get(h.gw() + "/" + "x".repeat(10_000)).statusCode()).isBetween(400, 431); // refusal
        }

        // A rejected reload (the running config is kept), then a valid one that turns dry-run on.
        Files.writeString(h.file, "listen: [\n", StandardCharsets.UTF_8);
        await("reload rejected", () -> gatewaySum("scopegate_config_reload_failures_total") == 1);
        Files.writeString(h.file, h.yaml("  dry-run: true", routes), StandardCharsets.UTF_8);
        await("reload applied", () -> gatewaySum("scopegate_config_reloads_total") == 1);

        // Phase 2: in dry-run the scope is decided and counted, the request forwarded unchanged.
        for (int i = 0; i < 5; i++) {
            assertThat(h.authorize(client, "d" + i, null).statusCode()).isEqualTo(400); // the IdP refuses it
        }
        await("dry-run decisions scraped", () -> sumOf("scopegate_rewrites_dry_run_total") == 5);
        await("reloads scraped", () -> sumOf("scopegate_config_reloads_total") == 1
                && sumOf("scopegate_config_reload_failures_total") == 1);

        // The instance variable's query (label_values(metric, instance)) offers this gateway.
        String definition = DockerFilesTest.variable(dashboard, "instance").path("definition").asText();
        String metric = definition.substring("label_values(".length(), definition.indexOf(','));
        JsonNode series = prom.api("series", "match[]", metric);
        assertThat(series.findValuesAsText("instance")).containsExactly(instance);

        // Every panel's every query returns data.
        Map<String, String> vars = Map.of("$__rate_interval", "1m", "$__interval", "15s", "$__range", "1h",
                "${instance}", instance, "$instance", instance);
        Map<String, JsonNode> results = new LinkedHashMap<>();
        List<String> empty = new ArrayList<>();
        for (JsonNode panel : DockerFilesTest.panels(dashboard)) {
            for (JsonNode target : panel.path("targets")) {
                String expr = substitute(target.path("expr").asText(), vars);
                assertThat(expr).as(panel.path("title").asText()).doesNotContain("$");
                JsonNode result = prom.query(expr);
                results.put(panel.path("title").asText() + " " + target.path("refId").asText(), result);
                if (result.isEmpty()) {
                    empty.add(panel.path("title").asText() + ": " + expr);
                }
            }
        }
        assertThat(results).hasSizeGreaterThan(30);
        assertThat(empty).as("panel queries without data").isEmpty();

        // The panels the issue names show what the load did.
        assertThat(value(results.get("Dry-run decisions (not applied) A"), "source", "learned", "family", "chatgpt"))
                .isPositive();
        assertThat(value(results.get("Rewrite outcomes (the IdP's answers) A"), "source", "learned", "outcome",
                "accepted", "error", "none")).isPositive();
        assertThat(value(results.get("Rejected share of rewritten requests A"), "family", "chatgpt")).isZero();
        assertThat(value(results.get("Upstream errors by kind A"), "kind", "connect_error")).isPositive();
        assertThat(value(results.get("Upstream errors by kind A"), "kind", "reset")).isZero();
        assertThat(values(results.get("Refusals by reason A"))).anyMatch(v -> v > 0);
        assertThat(value(results.get("Registrations A"), "event", "captured")).isPositive();
        assertThat(value(results.get("Registrations A"), "event", "deleted")).isZero();
        assertThat(value(results.get("Config reloads A"))).isPositive();
        assertThat(value(results.get("Config reloads B"))).isPositive();
        assertThat(value(results.get("Rewrites by source A"), "source", "learned")).isPositive();
        assertThat(values(results.get("Upstream latency p99 by route A"))).anyMatch(v -> v > 0);
        assertThat(value(results.get("Ready A"))).isEqualTo(1);
        assertThat(value(results.get("Metadata waits A"), "outcome", "unavailable")).isZero();

        // The rules load and evaluate on real series without error; the upstream alerts see the failures.
        await("rules evaluated", () -> rulesEvaluated() == 12);
        for (JsonNode group : prom.api("rules").path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                assertThat(rule.path("health").asText()).as(rule.path("name").asText() + ": " + rule.path("lastError"))
                        .isEqualTo("ok");
            }
        }
        await("upstream alerts pending", () -> alertState("ScopegateUpstreamErrors").equals("pending")
                && alertState("ScopegateUpstream5xxRatio").equals("pending"));
        assertThat(alertState("ScopegateTargetMissing")).isEmpty();
        assertThat(alertState("ScopegateNotReady")).isEmpty();
    }

    /** Replaces Grafana's variables, longest name first where one is a prefix of another. */
    static String substitute(String expr, Map<String, String> vars) {
        String out = expr;
        List<String> names = new ArrayList<>(vars.keySet());
        names.sort((a, b) -> b.length() - a.length());
        for (String name : names) {
            out = out.replace(name, vars.get(name));
        }
        return out;
    }

    /** The value of the one sample of {@code result} whose labels include {@code labelPairs}. */
    static double value(JsonNode result, String... labelPairs) {
        List<Double> found = new ArrayList<>();
        for (JsonNode sample : result) {
            boolean match = true;
            for (int i = 0; i + 1 < labelPairs.length; i += 2) {
                match &= labelPairs[i + 1].equals(sample.path("metric").path(labelPairs[i]).asText(null));
            }
            if (match) {
                found.add(Double.parseDouble(sample.path("value").get(1).asText()));
            }
        }
        assertThat(found).as("samples with " + String.join(",", labelPairs) + " in " + result).hasSize(1);
        return found.get(0);
    }

    static List<Double> values(JsonNode result) {
        List<Double> out = new ArrayList<>();
        result.forEach(s -> out.add(Double.parseDouble(s.path("value").get(1).asText())));
        return out;
    }

    private double sumOf(String promql) {
        try {
            return prom.sum(promql);
        } catch (Exception e) {
            return -1;
        }
    }

    private double gatewaySum(String name) {
        try {
            return h.scrape().sum(name);
        } catch (Exception e) {
            return -1;
        }
    }

    private int rulesEvaluated() {
        try {
            int n = 0;
            for (JsonNode group : prom.api("rules").path("groups")) {
                for (JsonNode rule : group.path("rules")) {
                    if (!rule.path("lastEvaluation").asText("").startsWith("0001-")) {
                        n++;
                    }
                }
            }
            return n;
        } catch (Exception e) {
            return -1;
        }
    }

    /** "firing", "pending", or "" when the alert is inactive. */
    private String alertState(String name) {
        try {
            for (JsonNode alert : prom.api("alerts").path("alerts")) {
                if (alert.path("labels").path("alertname").asText().equals(name)) {
                    return alert.path("state").asText();
                }
            }
            return "";
        } catch (Exception e) {
            return "error: " + e;
        }
    }

    /** Waits (at most 20 s) for {@code condition}; fails with Prometheus's log otherwise. */
    private void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not in time; prometheus log:\n" + prom.log());
            }
            Thread.sleep(100);
        }
    }
}
