package dev.scopegate.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SIGTERM loses no access or audit line: the gateway runs as its own process with the shipped
 * {@code logback.xml} (stdout through the buffered appender, its flush interval set to an hour),
 * serves a few requests and is terminated; its stdout then holds every line.
 */
class AccessLogOnShutdownTest {

    @TempDir
    Path dir;
    IdpStandIn idp;
    Process gateway;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.destroyForcibly();
        }
        if (idp != null) {
            idp.close();
        }
    }

    @Test
    void sigtermWritesTheBufferedLines() throws Exception {
        idp = new IdpStandIn();
        int port = KillNineTest.freePort();
        int adminPort = KillNineTest.freePort();
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, """
                listen: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: %d}
                upstream: {url: "%s"}
                scope:
                  default: "worker:read"
                store: {path: "%s"}
                """.formatted(port, adminPort, idp.base(), dir.resolve("data").toString().replace("\\", "/")));
        Path logback = Path.of(getClass().getResource("/logback.xml").toURI());
        Path stdout = dir.resolve("stdout");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        gateway = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                "-Dlogback.configurationFile=" + logback, "-DSCOPEGATE_LOG_FLUSH_MILLIS=3600000",
                "dev.scopegate.Cli", "--config", config.toString())
                .redirectOutput(stdout.toFile()).redirectError(dir.resolve("stderr").toFile()).start();
        KillNineTest probe = new KillNineTest();
        probe.waitReady(adminPort);

        HttpResponse<String> registered = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth/register"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"redirect_uris\":[\"https://chatgpt.com/cb\"]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(registered.statusCode()).isEqualTo(201);
        String id = dev.scopegate.testing.TestHttp.field(registered.body(), "client_id");
        HttpResponse<String> authorized = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/oauth/authorize?response_type=code&client_id=" + id + "&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fcb&state=x"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(authorized.statusCode()).isEqualTo(302);

        gateway.destroy(); // SIGTERM
        assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).as("the gateway exits").isTrue();

        List<String> lines = Files.readAllLines(stdout);
        assertThat(lines).anySatisfy(l -> assertThat(l).contains(" access ", "\"POST /oauth/register\" 201"));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains(" access ", "\"GET /oauth/authorize\" 302"));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains(" audit rewrite client_id=" + id));
        assertThat(Files.readString(dir.resolve("stderr"))).doesNotContain("dropped");
    }
}
