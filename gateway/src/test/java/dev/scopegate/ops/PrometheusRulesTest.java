package dev.scopegate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The alert rules, checked by Prometheus's own {@code promtool} (Debian's package, installed by
 * {@code .ci/prometheus.sh}; skipped where it is absent): they parse ({@code check rules}), and
 * their unit tests with synthetic series pass ({@code test rules docker/prometheus/alerts.test.yml}).
 * Without promtool: every alert waits ({@code for:}), has a severity and a runbook entry in the
 * README, and its unit tests see it both firing and silent.
 */
class PrometheusRulesTest {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    final Path dir = DockerFiles.dir().resolve("prometheus");

    @TempDir
    Path tmp;

    /** Exit code and output (stdout and stderr) of a finished command. */
    record Run(int exit, String output) {}

    static Run run(Path workDir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish");
        }
        return new Run(p.exitValue(), out);
    }

    static String promtool() {
        var promtool = Prometheus.binary("promtool");
        assumeTrue(promtool.isPresent(), "promtool not installed (.ci/prometheus.sh installs Debian's prometheus)");
        return promtool.get().toString();
    }

    /** alert name → rule, in file order. */
    static Map<String, JsonNode> alerts(Path rulesFile) throws IOException {
        Map<String, JsonNode> alerts = new LinkedHashMap<>();
        for (JsonNode group : YAML.readTree(rulesFile.toFile()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("alert")) {
                    alerts.put(rule.path("alert").asText(), rule);
                }
            }
        }
        return alerts;
    }

    @Test
    void promtoolChecksTheRules() throws Exception {
        Run r = run(dir, promtool(), "check", "rules", "alerts.yml");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: " + alerts(dir.resolve("alerts.yml")).size() + " rules found");
    }

    @Test
    void promtoolUnitTestsPass() throws Exception {
        Run r = run(dir, promtool(), "test", "rules", "alerts.test.yml");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");
    }

    /** The unit tests bite: the same rules without their {@code for:} fail them (one stray event would fire). */
    @Test
    void unitTestsFailForRulesWithoutFor() throws Exception {
        String promtool = promtool();
        String rules = Files.readString(dir.resolve("alerts.yml"));
        String withoutFor = rules.lines().filter(l -> !l.strip().startsWith("for:")).collect(Collectors.joining("\n"));
        assertThat(withoutFor).isNotEqualTo(rules);
        Files.writeString(tmp.resolve("alerts.yml"), withoutFor);
        Files.copy(dir.resolve("alerts.test.yml"), tmp.resolve("alerts.test.yml"));
        Run r = run(tmp, promtool, "test", "rules", "alerts.test.yml");
        assertThat(r.exit()).isNotZero();
        for (String alert : List.of("ScopegateTargetDown", "ScopegateNotReady", "ScopegateUpstreamErrors",
                "ScopegateStoreErrors", "ScopegateConfigReloadFailed", "ScopegateLogLinesDropped")) {
            assertThat(r.output()).as("a failure for " + alert).contains("alertname: " + alert);
        }
    }

    @Test
    void everyAlertWaitsHasASeverityAndARunbook() throws Exception {
        String readme = Files.readString(DockerFiles.dir().getParent().resolve("README.md"));
        int runbook = readme.indexOf("\n## Runbook\n");
        assertThat(runbook).as("README section \"## Runbook\"").isPositive();
        int end = readme.indexOf("\n## ", runbook + 1);
        String section = readme.substring(runbook, end < 0 ? readme.length() : end);

        Map<String, JsonNode> alerts = alerts(dir.resolve("alerts.yml"));
        assertThat(alerts.keySet()).contains("ScopegateTargetDown", "ScopegateTargetMissing", "ScopegateNotReady",
                "ScopegateUpstreamErrors", "ScopegateLogLinesDropped", "ScopegateUnresolvedRewrites",
                "ScopegateStoreErrors", "ScopegateMetadataStale", "ScopegateConfigReloadFailed", "ScopegateRewritesRejected");
        for (var e : alerts.entrySet()) {
            String name = e.getKey();
            JsonNode rule = e.getValue();
            assertThat(rule.path("for").asText()).as(name + " for:").matches("[1-9]\\d*[smh]");
            assertThat(rule.path("labels").path("severity").asText()).as(name).isIn("critical", "warning", "info");
            assertThat(rule.path("annotations").path("summary").asText()).as(name).isNotBlank();
            // GitHub's anchor of "### ScopegateNotReady" is "#scopegatenotready".
            assertThat(rule.path("annotations").path("runbook_url").asText()).as(name)
                    .isEqualTo("README.md#" + name.toLowerCase(Locale.ROOT));
            assertThat(section).as("README runbook entry of " + name).contains("\n### " + name + "\n");
        }
    }

    @Test
    void everyAlertIsSeenFiringAndSilentByTheUnitTests() throws Exception {
        JsonNode tests = YAML.readTree(dir.resolve("alerts.test.yml").toFile());
        assertThat(tests.path("rule_files").get(0).asText()).isEqualTo("alerts.yml");
        Map<String, List<Boolean>> seen = new LinkedHashMap<>();
        for (JsonNode test : tests.path("tests")) {
            for (JsonNode check : test.path("alert_rule_test")) {
                seen.computeIfAbsent(check.path("alertname").asText(), k -> new ArrayList<>())
                        .add(!check.path("exp_alerts").isEmpty());
            }
        }
        for (String alert : alerts(dir.resolve("alerts.yml")).keySet()) {
            assertThat(seen.get(alert)).as(alert + " expected firing somewhere").contains(true);
            assertThat(seen.get(alert)).as(alert + " expected silent somewhere").contains(false);
        }
    }
}
