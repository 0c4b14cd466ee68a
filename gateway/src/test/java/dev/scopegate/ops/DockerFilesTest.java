package dev.scopegate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.scopegate.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lints what no Docker engine runs here: the Dockerfile's shape, and that the compose file,
 * Prometheus config, alert rules and Grafana provisioning parse and point at each other.
 */
public class DockerFilesTest {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();
    final Path docker = DockerFiles.dir();

    /** Dockerfile instructions with continuation lines joined; comments dropped. */
    static List<String> instructions(Path dockerfile) throws IOException {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            String t = line.strip();
            if (t.startsWith("#") || (t.isEmpty() && current.length() == 0)) {
                continue;
            }
            if (t.endsWith("\\")) {
                current.append(t, 0, t.length() - 1).append(' ');
                continue;
            }
            current.append(t);
            if (current.length() > 0) {
                out.add(current.toString().strip());
            }
            current.setLength(0);
        }
        return out;
    }

    @Test
    void dockerfileIsMultiStageNonRootWithHealthcheck() throws IOException {
        List<String> ins = instructions(docker.resolve("Dockerfile"));
        List<String> froms = ins.stream().filter(i -> i.startsWith("FROM ")).toList();
        assertThat(froms).hasSize(2);
        assertThat(froms.get(0)).matches("FROM maven:\\S+ AS build");
        assertThat(froms.get(1)).matches("FROM eclipse-temurin:17-jre\\S*");
        int runStage = ins.indexOf(froms.get(1));
        List<String> run = ins.subList(runStage, ins.size());
        assertThat(run).anyMatch(i -> i.startsWith("COPY --from=build "));
        String user = run.stream().filter(i -> i.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
        assertThat(user).doesNotContain("root").isNotEqualTo("USER 0").doesNotStartWith("USER 0:");
        assertThat(run).anyMatch(i -> i.startsWith("HEALTHCHECK ") && i.contains("/healthz"));
        assertThat(run).anyMatch(i -> i.matches("EXPOSE .*\\b8080\\b.*") && i.contains("9090"));
        assertThat(run).anyMatch(i -> i.startsWith("VOLUME ") && i.contains("/var/lib/scopegate"));
        assertThat(run).anyMatch(i -> i.startsWith("ENTRYPOINT ") && i.contains("scopegate.jar"));
        assertThat(run).anyMatch(i -> i.startsWith("CMD ") && i.contains("/etc/scopegate/scopegate.yaml"));
        // Every COPY source of the build stage exists in the repository (the context is its root).
        Path root = docker.getParent();
        for (String i : ins.subList(0, runStage)) {
            if (i.startsWith("COPY ") && !i.contains("--from")) {
                String[] parts = i.split("\\s+");
                for (int k = 1; k < parts.length - 1; k++) {
                    assertThat(root.resolve(parts[k])).as(i).exists();
                }
            }
        }
        assertThat(root.resolve("config/scopegate.yaml")).exists();
    }

    /**
     * The runtime stage writes the class-data-sharing archive with its own JRE, after the jar is at
     * the path it runs from, and the JVM options read that archive (fail-safe) with the serial
     * collector: an archive written elsewhere or never read would silently do nothing.
     */
    @Test
    void theImageWritesTheCdsArchiveItsJvmReads() throws IOException {
        List<String> ins = instructions(docker.resolve("Dockerfile"));
        String lastFrom = ins.stream().filter(i -> i.startsWith("FROM ")).reduce((a, b) -> b).orElseThrow();
        List<String> run = ins.subList(ins.indexOf(lastFrom), ins.size());
        String copyJar = run.stream().filter(i -> i.startsWith("COPY --from=build ") && i.endsWith("/opt/scopegate/scopegate.jar"))
                .findFirst().orElseThrow();
        String training = run.stream().filter(i -> i.startsWith("RUN ") && i.contains("-XX:ArchiveClassesAtExit="))
                .findFirst().orElseThrow();
        assertThat(run.indexOf(training)).as("trained after the jar is in place").isGreaterThan(run.indexOf(copyJar));
        assertThat(training).contains("-cp /opt/scopegate/scopegate.jar dev.scopegate.CdsTraining");
        Matcher archive = Pattern.compile("-XX:ArchiveClassesAtExit=(\\S+)").matcher(training);
        assertThat(archive.find()).isTrue();
        String env = run.stream().filter(i -> i.startsWith("ENV ") && i.contains("JAVA_TOOL_OPTIONS")).findFirst().orElseThrow();
        assertThat(env).contains("-XX:SharedArchiveFile=" + archive.group(1)).contains("-Xshare:auto")
                .contains("-XX:+UseSerialGC");
        assertThat(run).anyMatch(i -> i.startsWith("ENTRYPOINT ") && i.contains("\"/opt/scopegate/scopegate.jar\""));
    }

    @Test
    void composeHasTheFourServicesAndConsistentMounts() throws IOException {
        JsonNode compose = YAML.readTree(docker.resolve("docker-compose.yml").toFile());
        JsonNode services = compose.path("services");
        assertThat(fieldNames(services)).contains("scopegate", "idp", "prometheus", "grafana");
        JsonNode sg = services.path("scopegate");
        assertThat(sg.path("build").path("dockerfile").asText()).isEqualTo("docker/Dockerfile");
        assertThat(docker.resolve(sg.path("build").path("context").asText()).resolve("docker/Dockerfile")).exists();
        assertThat(sg.path("volumes").toString()).contains("/etc/scopegate").contains("/var/lib/scopegate");
        // Every host path mounted by any service exists.
        for (String name : fieldNames(services)) {
            for (JsonNode v : services.path(name).path("volumes")) {
                String host = v.asText().split(":")[0];
                if (host.startsWith(".")) {
                    assertThat(docker.resolve(host)).as(name + " mounts " + host).exists();
                } else {
                    assertThat(compose.path("volumes").has(host)).as(name + " volume " + host).isTrue();
                }
            }
        }
    }

    @Test
    void composeConfigOfScopegateIsValidAndSafe() throws Exception {
        Path file = docker.resolve("scopegate/scopegate.yaml");
        var c = new ConfigLoader(Map.of("SCOPEGATE_ADMIN_TOKEN", "t")::get).load(file);
        assertThat(c.admin().token()).isEqualTo("t");
        assertThat(c.store().path()).isEqualTo("/var/lib/scopegate");
        assertThat(c.upstream().url().getHost()).isEqualTo("idp");
        // Non-loopback admin: without the token the gateway refuses to start (AdminAuthTest), so
        // the compose file must make the variable mandatory.
        String compose = Files.readString(docker.resolve("docker-compose.yml"));
        assertThat(compose).contains("SCOPEGATE_ADMIN_TOKEN: ${SCOPEGATE_ADMIN_TOKEN:?");
    }

    @Test
    void prometheusScrapesTheAdminPortAndLoadsTheRules() throws IOException {
        JsonNode prom = YAML.readTree(docker.resolve("prometheus/prometheus.yml").toFile());
        JsonNode job = prom.path("scrape_configs").get(0);
        assertThat(job.path("job_name").asText()).isEqualTo("scopegate");
        assertThat(job.path("metrics_path").asText()).isEqualTo("/metrics");
        assertThat(job.path("static_configs").get(0).path("targets").get(0).asText()).isEqualTo("scopegate:9090");
        assertThat(prom.path("rule_files").get(0).asText()).isEqualTo("/etc/prometheus/alerts.yml");

        JsonNode rules = YAML.readTree(docker.resolve("prometheus/alerts.yml").toFile());
        List<String> alerts = new ArrayList<>();
        for (JsonNode group : rules.path("groups")) {
            assertThat(group.path("name").asText()).isNotBlank();
            for (JsonNode rule : group.path("rules")) {
                assertThat(rule.path("expr").asText()).isNotBlank();
                assertThat(rule.path("labels").path("severity").asText()).isIn("critical", "warning", "info");
                assertThat(rule.path("annotations").path("summary").asText()).isNotBlank();
                assertThat(rule.path("annotations").path("runbook_url").asText()).startsWith("README.md#");
                assertThat(rule.path("for").asText()).as("for: of " + rule.path("alert")).matches("[1-9]\\d*[smh]");
                alerts.add(rule.path("alert").asText());
            }
        }
        assertThat(alerts).contains("ScopegateTargetDown", "ScopegateTargetMissing", "ScopegateNotReady",
                "ScopegateUpstreamErrors", "ScopegateLogLinesDropped", "ScopegateUnresolvedRewrites",
                "ScopegateMetadataStale", "ScopegateConfigReloadFailed", "ScopegateUpstream5xxRatio",
                "ScopegateStoreErrors");
    }

    @Test
    void grafanaIsProvisionedWithTheDatasourceAndDashboard() throws IOException {
        JsonNode ds = YAML.readTree(docker.resolve("grafana/provisioning/datasources/prometheus.yml").toFile());
        JsonNode source = ds.path("datasources").get(0);
        assertThat(source.path("type").asText()).isEqualTo("prometheus");
        assertThat(source.path("url").asText()).isEqualTo("http://prometheus:9090");
        JsonNode providers = YAML.readTree(docker.resolve("grafana/provisioning/dashboards/scopegate.yml").toFile());
        assertThat(providers.path("providers").get(0).path("options").path("path").asText())
                .isEqualTo("/var/lib/grafana/dashboards");

        JsonNode dash = JSON.readTree(docker.resolve("grafana/dashboards/scopegate.json").toFile());
        assertThat(dash.path("uid").asText()).isEqualTo("scopegate");
        // A datasource variable defaulting to the provisioned datasource, and an instance variable.
        JsonNode datasource = variable(dash, "datasource");
        assertThat(datasource.path("type").asText()).isEqualTo("datasource");
        assertThat(datasource.path("query").asText()).isEqualTo("prometheus");
        assertThat(datasource.path("current").path("value").asText()).isEqualTo(source.path("uid").asText());
        JsonNode instance = variable(dash, "instance");
        assertThat(instance.path("type").asText()).isEqualTo("query");
        assertThat(instance.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
        assertThat(instance.path("definition").asText()).matches("label_values\\(scopegate_\\w+, instance\\)");
        List<String> titles = new ArrayList<>();
        for (JsonNode panel : panels(dash)) {
            String title = panel.path("title").asText();
            titles.add(title);
            assertThat(panel.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
            assertThat(panel.path("targets").size()).as(title).isPositive();
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asText();
                assertThat(target.path("datasource").path("uid").asText()).as(title).isEqualTo("${datasource}");
                // every metric the query reads is filtered by the instance variable
                assertThat(occurrences(expr, "instance=~\"$instance\"")).as(title + ": " + expr)
                        .isEqualTo(metricNames(expr).size());
            }
        }
        assertThat(titles).doesNotHaveDuplicates();
        assertThat(titles).contains("Requests by status class", "Upstream latency p50 / p99",
                "Upstream latency p99 by route", "Upstream errors by kind", "Refusals by reason", "Rewrites by source",
                "Rewrites by client family", "Dry-run decisions (not applied)", "Unresolved (no source had a scope)",
                "Registration cache hit ratio", "Registrations", "Ready", "Metadata age", "Metadata waits",
                "Config reloads", "Log lines dropped");
    }

    /** The dashboard's panels that query something (row headers left out). */
    public static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            if (!panel.path("type").asText().equals("row")) {
                panels.add(panel);
            }
        }
        return panels;
    }

    public static JsonNode variable(JsonNode dashboard, String name) {
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("name").asText().equals(name)) {
                return v;
            }
        }
        throw new AssertionError("no dashboard variable " + name);
    }

    static int occurrences(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The metric names a PromQL expression reads. */
    public static List<String> metricNames(String promql) {
        String s = promql.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")   // string literals
                .replaceAll("\\{[^}]*}", " ")                                // label matchers
                .replaceAll("\\[[^]]*]", " ")                                // ranges
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(s);
        while (m.find()) {
            String id = m.group(1);
            boolean call = m.group(2) != null;
            int start = m.start();
            boolean partOfNumber = start > 0 && (Character.isDigit(s.charAt(start - 1)) || s.charAt(start - 1) == '.');
            if (!call && !partOfNumber && !List.of("and", "or", "unless", "bool", "offset", "by", "without").contains(id)) {
                names.add(id);
            }
        }
        return names;
    }

    @Test
    void promqlNameExtraction() {
        assertThat(metricNames("sum by (le) (rate(a_bucket{x=\"y\"}[5m])) / clamp_min(sum(rate(b_total[5m])), 1e-9) > 0.05"))
                .containsExactly("a_bucket", "b_total");
        assertThat(metricNames("c > 900 or d == 0")).containsExactly("c", "d");
    }
}
