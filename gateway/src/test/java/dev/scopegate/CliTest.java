package dev.scopegate;

import com.sun.net.httpserver.HttpServer;
import dev.scopegate.ops.Harness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line in this JVM, through picocli with captured streams: help and version on
 * stdout with exit 0, usage errors exit 2, {@code check} checks the file it is given and what
 * start would refuse, a refused {@code start} is one line and exit 1, {@code healthcheck}.
 */
class CliTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private Harness harness;

    @AfterEach
    void stop() {
        if (harness != null) {
            harness.close();
        }
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        return new Cli(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.<String, String>of()::get).commandLine().execute(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private Path file(String name, String yaml) throws Exception {
        return Files.writeString(dir.resolve(name), yaml);
    }

    /** A config start accepts: loopback listeners on free ports, a store in the temp directory. */
    private String valid() {
        return """
                listen: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "http://127.0.0.1:9"}
                store: {type: embedded, path: "%s"}
                """.formatted(dir.resolve("data").toString().replace("\\", "/"));
    }

    @Test
    void helpIsOnStdoutWithExitZeroForEveryCommand() {
        List<List<String>> commands = List.of(List.of(), List.of("start"), List.of("check"), List.of("import"),
                List.of("store"), List.of("store", "copy"), List.of("healthcheck"), List.of("demo"));
        for (List<String> command : commands) {
            for (String flag : new String[]{"--help", "-h"}) {
                String[] args = java.util.stream.Stream.concat(command.stream(), java.util.stream.Stream.of(flag))
                        .toArray(String[]::new);
                assertThat(run(args)).as(String.join(" ", args)).isZero();
                assertThat(out()).as(String.join(" ", args))
                        .startsWith("Usage: scopegate.jar" + (command.isEmpty() ? "" : " " + String.join(" ", command)))
                        .contains("Exit codes: 0 ok; 1 failure");
                assertThat(err()).as(String.join(" ", args)).isEmpty();
            }
        }
        run("--help");
        assertThat(out()).contains("start", "check", "import", "store", "healthcheck", "demo");
    }

    @Test
    void versionNamesTheBuildTheRevisionAndJava() throws Exception {
        for (String[] args : new String[][]{{"--version"}, {"-V"}, {"check", "--version"}, {"demo", "-V"}}) {
            assertThat(run(args)).isZero();
            List<String> lines = out().lines().toList();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).matches("scopegate \\S+ \\(revision \\S+\\)");
            assertThat(lines.get(1)).startsWith("Java " + System.getProperty("java.version") + " (");
            assertThat(err()).isEmpty();
        }
        BuildInfo build = BuildInfo.current();
        // Filled in by the build: the project version, and the revision git names (when there is a .git).
        assertThat(build.version()).matches("\\d+\\.\\d+\\.\\d+.*");
        Process git = new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").redirectErrorStream(true).start();
        String head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (git.waitFor(30, TimeUnit.SECONDS) && git.exitValue() == 0) {
            assertThat(build.revision()).isEqualTo(head);
        } else {
            assertThat(build.revision()).isEqualTo("unknown");
        }
        run("--version");
        assertThat(out()).startsWith("scopegate " + build.version() + " (revision " + build.revision() + ")");
    }

    @Test
    void anUnfilledOrBlankBuildPropertyReadsUnknown() {
        Properties p = new Properties();
        p.setProperty("revision", "${scopegate.git.revision}");
        p.setProperty("version", " ");
        assertThat(BuildInfo.value(p, "revision")).isEqualTo("unknown");
        assertThat(BuildInfo.value(p, "version")).isEqualTo("unknown");
        assertThat(BuildInfo.value(p, "absent")).isEqualTo("unknown");
        p.setProperty("revision", "0123456789ab");
        assertThat(BuildInfo.value(p, "revision")).isEqualTo("0123456789ab");
    }

    @Test
    void usageErrorsExitTwoOnStderr() {
        for (String[] args : new String[][]{{"--bogus"}, {"bogus"}, {"start", "extra.yaml"}, {"check", "a.yaml", "b.yaml"},
                {"store"}, {"store", "copy", "--from", "embedded"}, {"store", "copy", "--from", "embedded", "--to", "embedded"},
                {"store", "copy", "--from", "embedded", "--to", "mysql"}, {"import"},
                {"healthcheck", "--url", "http://127.0.0.1:1/healthz", "--config", "x.yaml"},
                {"healthcheck", "--url", "ftp://127.0.0.1/healthz"}, {"--config"}}) {
            assertThat(run(args)).as(String.join(" ", args)).isEqualTo(2);
            assertThat(out()).as(String.join(" ", args)).isEmpty();
            assertThat(err()).as(String.join(" ", args)).contains("--help' for more information.");
        }
        run("--confg", "x.yaml");
        assertThat(err()).contains("Unknown option").contains("--config");
    }

    @Test
    void checkChecksTheFileItIsGivenPositionalOrOption() throws Exception {
        Path good = file("good.yaml", valid());
        Path bad = file("bad.yaml", valid() + "listn: {port: 1}\n");

        assertThat(run("check", good.toString())).isZero();
        assertThat(out()).startsWith("OK: " + good);
        assertThat(run("check", "--config", good.toString())).isZero();
        assertThat(out()).startsWith("OK: " + good);

        assertThat(run("check", bad.toString())).isEqualTo(1);
        assertThat(err()).startsWith(bad + ":").contains("listn").contains("did you mean");
        assertThat(out()).isEmpty();
        assertThat(run("check", "--config", bad.toString())).isEqualTo(1);
        assertThat(err()).startsWith(bad + ":");

        // Neither (the default file is not silently checked instead) nor both.
        assertThat(run("check")).isEqualTo(2);
        assertThat(err()).contains("which file?");
        assertThat(run("check", good.toString(), "--config", bad.toString())).isEqualTo(2);
    }

    @Test
    void checkFailsOnEverythingStartWouldRefuse() throws Exception {
        String data = dir.resolve("data").toString().replace("\\", "/");
        Path notADirectory = Files.writeString(dir.resolve("store-file"), "x");
        Path cert = Files.writeString(dir.resolve("cert.pem"), "not a certificate");
        Path key = Files.writeString(dir.resolve("key.pem"), "not a key");
        Map<String, String> refused = Map.of(
                "admin: {host: 0.0.0.0, port: 0, token: \"\"}\nstore: {path: \"" + data + "\"}",
                "admin.host 0.0.0.0 is not a loopback address and admin.token is empty",
                "listen: {host: no-such-host.invalid, port: 0}\nstore: {path: \"" + data + "\"}",
                "listen.host no-such-host.invalid: unknown host",
                "listen: {port: 0}\nstore: {path: \"" + notADirectory.toString().replace("\\", "/") + "\"}",
                "store.path " + notADirectory.toString().replace("\\", "/") + ": exists and is not a directory");
        int i = 0;
        for (Map.Entry<String, String> e : refused.entrySet()) {
            Path f = file("refused-" + i++ + ".yaml", "upstream: {url: \"http://127.0.0.1:9\"}\n" + e.getKey() + "\n");
            assertThat(run("check", f.toString())).as(e.getKey()).isEqualTo(1);
            assertThat(err().lines().toList()).as(e.getKey()).hasSize(1)
                    .allSatisfy(line -> assertThat(line).startsWith(f + ": " + e.getValue()));
            assertThat(out()).isEmpty();
        }
        // TLS files that do not load are refused when the config is read (file:line:col, each key)
        Path tls = file("refused-tls.yaml", "upstream: {url: \"http://127.0.0.1:9\"}\nlisten: {port: 0, tls: {cert: \""
                + cert + "\", key: \"" + key + "\"}}\nstore: {path: \"" + data + "\"}\n");
        assertThat(run("check", tls.toString())).isEqualTo(1);
        assertThat(err().lines().toList()).isNotEmpty()
                .allSatisfy(line -> assertThat(line).startsWith(tls + ":").contains("listen.tls."))
                .anySatisfy(line -> assertThat(line).contains("listen.tls.cert: '" + cert + "' is not a PEM file"));
        assertThat(out()).isEmpty();
        // The same file with a token passes: the rule, not the address, failed it.
        Path withToken = file("token.yaml", "upstream: {url: \"http://127.0.0.1:9\"}\nadmin: {host: 0.0.0.0, port: 0,"
                + " token: t0ken}\nstore: {path: \"" + data + "\"}\n");
        assertThat(run("check", withToken.toString())).isZero();
    }

    @Test
    @Timeout(60) // a start that is not refused would block here: the timeout's interrupt makes it fail
    void startWithARefusedConfigSaysSoInOneLineAndExitsOne() throws Exception {
        Path f = file("public-admin.yaml", valid().replace("admin: {host: 127.0.0.1, port: 0}",
                "admin: {host: 0.0.0.0, port: 0}"));

        assertThat(run("start", "--config", f.toString())).isEqualTo(1);
        assertThat(err().lines().toList()).containsExactly("scopegate: cannot start: admin.host 0.0.0.0 is not a loopback"
                + " address and admin.token is empty: set a token or bind admin to 127.0.0.1");
        assertThat(run("--config", f.toString())).isEqualTo(1); // start is the default command
        assertThat(err().lines()).hasSize(1);
        assertThat(out()).isEmpty();
    }

    @Test
    @Timeout(60) // a start that is not refused would block here: the timeout's interrupt makes it fail
    void startWithAnInvalidConfigPrintsItsErrorsAndExitsOne() throws Exception {
        Path f = file("bad.yaml", valid() + "listen: {port: 99999}\n");
        assertThat(run("start", "--config", f.toString())).isEqualTo(1);
        assertThat(err()).startsWith(f + ":").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(run("start", "--config", dir.resolve("absent.yaml").toString())).isEqualTo(1);
        assertThat(err().lines().toList()).containsExactly(dir.resolve("absent.yaml") + ": no such file");
    }

    @Test
    @Timeout(60) // a start that is not refused would block here: the timeout's interrupt makes it fail
    void startOnAPortInUseSaysWhichListenerInOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            Path f = file("taken.yaml", valid().replace("listen: {host: 127.0.0.1, port: 0}",
                    "listen: {host: 127.0.0.1, port: " + port + "}"));

            assertThat(run("start", "--config", f.toString())).isEqualTo(1);
            assertThat(err().lines().toList()).singleElement().satisfies(line -> assertThat(line)
                    .startsWith("scopegate: cannot start: listen 127.0.0.1:" + port + ": cannot listen: ")
                    .containsIgnoringCase("address already in use"));
        }
    }

    @Test
    void healthcheckIsZeroForAHealthyGatewayAndOneOtherwise() throws Exception {
        harness = new Harness(dir);
        harness.start(harness.yaml("", ""));
        String admin = harness.admin();

        assertThat(run("healthcheck", "--url", admin + "/healthz")).isZero();
        assertThat(out()).isEqualTo("healthy: " + admin + "/healthz 200\n");
        assertThat(run("healthcheck", "--url", admin)).isZero(); // no path: /healthz
        assertThat(out()).contains(admin + "/healthz");

        // From a config: the admin listener; a wildcard host is asked on loopback.
        Path f = file("probe.yaml", "admin: {host: 0.0.0.0, port: " + harness.gateway.adminPort() + ", token: t}\n");
        assertThat(run("healthcheck", "--config", f.toString())).isZero();
        assertThat(out()).contains("http://127.0.0.1:" + harness.gateway.adminPort() + "/healthz");

        int dead;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            dead = s.getLocalPort();
        }
        assertThat(run("healthcheck", "--url", "http://127.0.0.1:" + dead + "/healthz")).isEqualTo(1);
        assertThat(err()).isEqualTo("unhealthy: http://127.0.0.1:" + dead + "/healthz: connection refused\n");
        assertThat(out()).isEmpty();

        Path zero = file("zero.yaml", "admin: {port: 0}\n");
        assertThat(run("healthcheck", "--config", zero.toString())).isEqualTo(1);
        assertThat(err()).contains("admin.port is 0");
    }

    @Test
    void healthcheckIsOneForAnyAnswerButTwoHundred() throws Exception {
        HttpServer sick = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        sick.createContext("/", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        sick.start();
        try {
            String url = "http://127.0.0.1:" + sick.getAddress().getPort() + "/healthz";
            assertThat(run("healthcheck", "--url", url)).isEqualTo(1);
            assertThat(err()).isEqualTo("unhealthy: " + url + " 503\n");
        } finally {
            sick.stop(0);
        }
    }

    @Test
    void aWildcardAdminHostIsAskedOnLoopback() throws Exception {
        var loader = new dev.scopegate.config.ConfigLoader(Map.<String, String>of()::get);
        assertThat(Cli.healthzOf(loader.load(file("v6.yaml", "admin: {host: \"::\", port: 9191, token: t}\n"))))
                .hasToString("http://[::1]:9191/healthz");
        assertThat(Cli.healthzOf(loader.load(file("v4.yaml", "admin: {host: 0.0.0.0, port: 9191, token: t}\n"))))
                .hasToString("http://127.0.0.1:9191/healthz");
        assertThat(Cli.healthzOf(loader.load(file("lo.yaml", "admin: {host: 127.0.0.2, port: 9191}\n"))))
                .hasToString("http://127.0.0.2:9191/healthz");
        // with a health listener, the probe goes there (the image's HEALTHCHECK needs no admin access)
        assertThat(Cli.healthzOf(loader.load(file("health.yaml",
                "admin: {host: 127.0.0.1, port: 9191}\nhealth: {host: 0.0.0.0, port: 9292}\n"))))
                .hasToString("http://127.0.0.1:9292/healthz");
    }

    @Test
    void theScrapeNamesTheBuild() throws Exception {
        harness = new Harness(dir);
        harness.start(harness.yaml("", ""));
        BuildInfo build = BuildInfo.current();

        var scrape = harness.scrape();

        assertThat(scrape.value("scopegate_build_info", "version", build.version(), "revision", build.revision()))
                .isEqualTo(1.0);
        assertThat(harness.get(harness.admin() + "/metrics").body())
                .contains("# TYPE scopegate_build_info gauge");
    }
}
