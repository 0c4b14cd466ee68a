package dev.scopegate.it;

import dev.scopegate.Gateway;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.ops.Scrape;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The IdP is down when the gateway starts: start-up succeeds, readiness (and {@code scopegate_ready})
 * says no, then yes.
 */
class IdpDownAtStartTest {

    @TempDir
    Path dir;
    Gateway gateway;
    IdpStandIn idp;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (idp != null) {
            idp.close();
        }
    }

    int status(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void readinessFollowsTheIdp() throws Exception {
        int idpPort = KillNineTest.freePort();
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, """
                listen: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "http://127.0.0.1:%d", connect-timeout: 1s}
                store: {path: "%s"}
                """.formatted(idpPort, dir.resolve("data").toString().replace("\\", "/")));
        gateway = Gateway.start(new ConfigLoader(n -> null).load(config));
        String admin = "http://127.0.0.1:" + gateway.adminPort();
        String proxy = "http://127.0.0.1:" + gateway.proxyPort();

        assertThat(status(admin + "/readyz")).isEqualTo(503);
        assertThat(status(admin + "/healthz")).isEqualTo(200);
        Scrape before = scrape(admin);
        assertThat(before.value("scopegate_ready")).isZero();
        assertThat(before.value("scopegate_metadata_last_success_timestamp_seconds")).isNaN();
        // answered at once, not hung: without metadata no request to the IdP is classified, and
        // the IdP is unreachable anyway
        assertThat(status(proxy + "/anything")).isEqualTo(503);
        assertThat(status(proxy + "/.well-known/oauth-authorization-server")).isEqualTo(503);

        idp = new IdpStandIn(idpPort);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (status(admin + "/readyz") != 200) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
        assertThat(status(proxy + "/anything")).isEqualTo(200);
        assertThat(status(proxy + "/.well-known/oauth-authorization-server")).isEqualTo(200);
        Scrape after = scrape(admin);
        assertThat(after.value("scopegate_ready")).isEqualTo(1);
        assertThat(after.value("scopegate_metadata_last_success_timestamp_seconds"))
                .isBetween(System.currentTimeMillis() / 1000.0 - 20, System.currentTimeMillis() / 1000.0 + 1);
    }

    Scrape scrape(String admin) throws Exception {
        return Scrape.parse(http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString()).body());
    }
}
