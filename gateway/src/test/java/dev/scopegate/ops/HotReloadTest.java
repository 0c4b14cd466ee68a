package dev.scopegate.ops;

import ch.qos.logback.classic.Level;
import dev.scopegate.config.ConfigReloader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sun.misc.Signal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Editing the config file under a running gateway, the ways operators do it, while a steady
 * request loop runs: in place, by rename, by a Kubernetes ConfigMap symlink swap, and with
 * SIGHUP. Valid edits change behaviour without a restart and without a failed request; an
 * invalid one keeps the old behaviour, counts a failure and names the line.
 */
class HotReloadTest {

    @TempDir
    Path dir;
    Harness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    String withDefault(String scope) {
        return h.yaml("  default: \"" + scope + "\"", "");
    }

    /** Waits until a probe authorization request reaches the IdP carrying exactly {@code encodedScope}. */
    void waitForScope(String encodedScope) throws InterruptedException {
        Harness.waitFor(() -> {
            try {
                h.authorize("probe", "probe", null);
            } catch (Exception e) {
                return false;
            }
            return h.idp.lastAuthorizeQuery().endsWith("&scope=" + encodedScope);
        });
    }

    double counter(String name) throws Exception {
        return h.scrape().sum(name);
    }

    @Test
    void editsInPlaceAndByRenameApplyWithoutRestartOrFailedRequests() throws Exception {
        h = new Harness(dir);
        h.start(withDefault("worker:read"));
        int port = h.gateway.proxyPort();
        double reloads = counter("scopegate_config_reloads_total");

        try (RequestLoop loop = new RequestLoop(h)) {
            waitForScope("worker%3Aread");

            // In place: same inode, truncated and rewritten (vi with backupcopy=yes, echo >, most tools).
            Files.writeString(h.file, withDefault("people:read"), StandardCharsets.UTF_8);
            waitForScope("people%3Aread");

            // By rename: a new file moved over the old one (vim's default, sed -i, IDEs, Ansible).
            Path tmp = dir.resolve(".scopegate.yaml.swp");
            Files.writeString(tmp, withDefault("contracts:read"), StandardCharsets.UTF_8);
            Files.move(tmp, h.file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            waitForScope("contracts%3Aread");

            // Still watching after the rename replaced the inode.
            Files.writeString(h.file, withDefault("time-off:read"), StandardCharsets.UTF_8);
            waitForScope("time-off%3Aread");

            loop.close();
            assertThat(loop.sent()).isGreaterThan(10);
            assertThat(loop.failures).isEmpty();
        }
        assertThat(h.gateway.proxyPort()).isEqualTo(port);
        assertThat(counter("scopegate_config_reloads_total") - reloads).isEqualTo(3);
        assertThat(counter("scopegate_config_reload_failures_total")).isZero();
    }

    @Test
    void anInvalidEditKeepsTheRunningConfigCountsOneFailureAndNamesTheLine() throws Exception {
        h = new Harness(dir);
        h.start(withDefault("worker:read"));
        try (LogCapture log = new LogCapture(ConfigReloader.class.getName(), Level.INFO);
             RequestLoop loop = new RequestLoop(h)) {
            waitForScope("worker%3Aread");
            double failures = counter("scopegate_config_reload_failures_total");

            // Line 8 of the file is the scope line: a typo'd key.
            String invalid = h.yaml("  defualt: \"people:read\"", "");
            assertThat(invalid.lines().toList().get(7)).isEqualTo("  defualt: \"people:read\"");
            Files.writeString(h.file, invalid, StandardCharsets.UTF_8);
            Harness.waitFor(() -> {
                try {
                    return counter("scopegate_config_reload_failures_total") == failures + 1;
                } catch (Exception e) {
                    return false;
                }
            });
            assertThat(log.messages()).anySatisfy(m -> assertThat(m)
                    .contains("rejected, keeping the running config")
                    .contains("scopegate.yaml:8:3: scope.defualt"));
            assertThat(h.scrape().value("scopegate_config_last_reload_successful")).isZero();

            // The old behaviour is kept.
            int before = h.idp.authorizeQueries.size();
            assertThat(h.authorize("probe", "p", null).statusCode()).isEqualTo(302);
            java.util.List<String> seen = java.util.List.copyOf(h.idp.authorizeQueries); // the loop keeps adding
            assertThat(seen.subList(before, seen.size()))
                    .anySatisfy(q -> assertThat(q).contains("state=p&").endsWith("&scope=worker%3Aread"));

            // A broken YAML document (syntax) is rejected the same way, with its line.
            Files.writeString(h.file, withDefault("worker:read").replace("scope:", "scope: [unclosed"),
                    StandardCharsets.UTF_8);
            Harness.waitFor(() -> {
                try {
                    return counter("scopegate_config_reload_failures_total") == failures + 2;
                } catch (Exception e) {
                    return false;
                }
            });
            assertThat(log.messages()).anySatisfy(m -> assertThat(m).containsPattern("scopegate\\.yaml:\\d+:\\d+"));

            // Fixing the file applies it; the failures were counted once each, not per event.
            Files.writeString(h.file, withDefault("people:read"), StandardCharsets.UTF_8);
            waitForScope("people%3Aread");
            assertThat(counter("scopegate_config_reload_failures_total")).isEqualTo(failures + 2);
            assertThat(h.scrape().value("scopegate_config_last_reload_successful")).isEqualTo(1);
            assertThat(log.messages()).anySatisfy(m -> assertThat(m)
                    .contains("config reloaded from").contains("changed scope.default"));

            loop.close();
            assertThat(loop.failures).isEmpty();
        }
    }

    @Test
    void restartOnlySettingsAreReportedAndKeepTheirRunningValues() throws Exception {
        h = new Harness(dir);
        h.start(withDefault("worker:read"));
        int port = h.gateway.proxyPort();
        try (LogCapture log = new LogCapture(ConfigReloader.class.getName(), Level.INFO)) {
            String edited = withDefault("people:read")
                    .replace("port: 0, drain-timeout: 1s", "port: 18080, drain-timeout: 1s")
                    + "limits: {max-header-bytes: 32768, max-form-bytes: 32768}\n";
            Files.writeString(h.file, edited, StandardCharsets.UTF_8);
            waitForScope("people%3Aread");

            ConfigReloader.Outcome outcome = h.gateway.reload();
            assertThat(outcome).isInstanceOf(ConfigReloader.Outcome.Applied.class);
            ConfigReloader.Outcome.Applied applied = (ConfigReloader.Outcome.Applied) outcome;
            assertThat(applied.restartRequired()).containsExactly("listen.port", "limits.max-header-bytes");
            assertThat(applied.changed()).isEmpty(); // the watcher applied the rest already
            assertThat(h.gateway.proxyPort()).isEqualTo(port);
            assertThat(h.authorize("probe", "p", null).statusCode()).isEqualTo(302);
            assertThat(h.scrape().value("scopegate_config_restart_pending")).isEqualTo(1);
            assertThat(log.messages()).anySatisfy(m -> assertThat(m)
                    .contains("listen.port, limits.max-header-bytes changed but only a restart applies"));
            assertThat(log.messages()).anySatisfy(m -> assertThat(m)
                    .contains("changed scope.default, limits.max-form-bytes"));
        }
    }

    @Test
    void aKubernetesConfigMapSymlinkSwapIsSeen() throws Exception {
        h = new Harness(dir);
        // The kubelet's layout: scopegate.yaml -> ..data/scopegate.yaml, ..data -> ..<timestamp>/
        Path gen1 = Files.createDirectory(dir.resolve("..2024_01_01_00_00_00.1"));
        Files.writeString(gen1.resolve("scopegate.yaml"), withDefault("worker:read"));
        Files.createSymbolicLink(dir.resolve("..data"), gen1.getFileName());
        Files.createSymbolicLink(h.file, Path.of("..data", "scopegate.yaml"));
        h.gateway = dev.scopegate.Gateway.start(h.file, h.env::get, java.time.Duration.ofMillis(100));
        Harness.waitFor(() -> h.status(h.admin() + "/readyz") == 200);

        try (RequestLoop loop = new RequestLoop(h)) {
            waitForScope("worker%3Aread");
            // An update: a new generation, a temporary link to it, renamed over ..data, old one removed.
            Path gen2 = Files.createDirectory(dir.resolve("..2024_01_01_00_05_00.2"));
            Files.writeString(gen2.resolve("scopegate.yaml"), withDefault("people:read"));
            Path tmpLink = Files.createSymbolicLink(dir.resolve("..data_tmp"), gen2.getFileName());
            Files.move(tmpLink, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.delete(gen1.resolve("scopegate.yaml"));
            Files.delete(gen1);
            waitForScope("people%3Aread");
            loop.close();
            assertThat(loop.failures).isEmpty();
        }
    }

    @Test
    void sighupReloads() throws Exception {
        h = new Harness(dir);
        h.env.put("SG_DEFAULT_SCOPE", "worker:read");
        // The environment is read at each reload but not watched: only SIGHUP picks up a change.
        h.start(h.yaml("  default: \"${SG_DEFAULT_SCOPE}\"", ""));
        assumeTrue(h.gateway.reloadsOnSighup(), "this JVM does not let the process handle SIGHUP");
        waitForScope("worker%3Aread");

        h.env.put("SG_DEFAULT_SCOPE", "people:read");
        Signal.raise(new Signal("HUP"));
        waitForScope("people%3Aread");
    }
}
