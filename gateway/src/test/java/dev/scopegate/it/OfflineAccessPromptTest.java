package dev.scopegate.it;

import dev.scopegate.Gateway;
import dev.scopegate.config.ConfigReloader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
 * {@code scope.offline-access-prompt} end to end: what the IdP stand-in receives when scopegate
 * adds a scope holding {@code offline_access}, for both values, across a live reload.
 */
class OfflineAccessPromptTest {

    static final String REDIRECT = SeedScenariosTest.REDIRECT;

    @TempDir
    Path dir;
    IdpStandIn idp;
    Gateway gateway;
    Path file;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        idp = new IdpStandIn();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        idp.close();
    }

    void start(String prompt) throws Exception {
        file = dir.resolve("scopegate.yaml");
        write(prompt);
        gateway = Gateway.start(file, name -> null, Duration.ofMillis(50));
        SeedScenariosTest.waitFor(() -> {
            try {
                return get("http://127.0.0.1:" + gateway.adminPort() + "/readyz").statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
    }

    void write(/* nullable */ String prompt) throws Exception {
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "%s", response-timeout: 5s}
                store: {type: embedded, path: "%s"}
                scope:
                  sources: [client]
                  clients: {c1: "worker:read offline_access"}
                %s
                """.formatted(idp.base(), dir.resolve("data").toString().replace("\\", "/"),
                prompt == null ? "" : "  offline-access-prompt: " + prompt));
    }

    HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The query the IdP received for {@code query} sent through scopegate. */
    String throughGateway(String query) throws Exception {
        get("http://127.0.0.1:" + gateway.proxyPort() + "/oauth/authorize?" + query);
        return idp.authorizeQueries.get(idp.authorizeQueries.size() - 1);
    }

    static final String QUERY = "response_type=code&client_id=c1&redirect_uri=" + REDIRECT + "&state=s1";
    static final String ADDED = "&scope=worker%3Aread%20offline_access";

    @Test
    void consentByDefault() throws Exception {
        start(null);
        assertThat(throughGateway(QUERY)).isEqualTo(QUERY + ADDED + "&prompt=consent");
        // a prompt the client chose is left as it is
        assertThat(throughGateway(QUERY + "&prompt=login")).isEqualTo(QUERY + "&prompt=login" + ADDED);
    }

    @Test
    void noneAddsNoPromptAndTheSettingReloadsLive() throws Exception {
        start("none");
        assertThat(throughGateway(QUERY)).isEqualTo(QUERY + ADDED);

        write("consent");
        assertThat(gateway.reload()).isInstanceOfSatisfying(ConfigReloader.Outcome.Applied.class, a -> {
            assertThat(a.changed()).contains("scope.offline-access-prompt");
            assertThat(a.restartRequired()).isEmpty();
        });
        assertThat(throughGateway(QUERY)).isEqualTo(QUERY + ADDED + "&prompt=consent");
    }
}
