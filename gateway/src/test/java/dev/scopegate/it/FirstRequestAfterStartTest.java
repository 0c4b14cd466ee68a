package dev.scopegate.it;

import dev.scopegate.Gateway;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.testing.TestHttp;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.scopegate.it.SeedScenariosTest.authorizeQuery;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The first second after a (re)start: requests that arrive before the IdP's first metadata are
 * held until its endpoints are known and then decided like any other (never forwarded as
 * pass-through against unknown endpoints); when the metadata cannot be had within the bound,
 * they get 503 with {@code Retry-After}; requests for other {@code routes} never wait.
 */
class FirstRequestAfterStartTest {

    static final String REGISTRATION = "{\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],"
            + "\"client_name\":\"ChatGPT\",\"scope\":\"worker:read time-off:read\"}";

    @TempDir
    Path dir;
    IdpStandIn idp;
    IdpStandIn mcp;
    Gateway gateway;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (idp != null) {
            idp.metadataGate.countDown();
            idp.close();
        }
        if (mcp != null) {
            mcp.close();
        }
    }

    private Gateway start(int idpPort, String upstreamExtra, String extraYaml) throws Exception {
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "http://127.0.0.1:%d"%s}
                store: {type: embedded, path: "%s"}
                scope:
                  clients: {configured-client: "people:read"}
                %s
                """.formatted(idpPort, upstreamExtra, dir.resolve("data").toString().replace("\\", "/"), extraYaml));
        return Gateway.start(new ConfigLoader(name -> null).load(file));
    }

    private String gw() {
        return "http://127.0.0.1:" + gateway.proxyPort();
    }

    private String admin() {
        return "http://127.0.0.1:" + gateway.adminPort();
    }

    private CompletableFuture<HttpResponse<String>> getAsync(String url) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private CompletableFuture<HttpResponse<String>> registerAsync() {
        return http.sendAsync(HttpRequest.newBuilder(URI.create(gw() + "/oauth/register")).timeout(Duration.ofSeconds(20))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(REGISTRATION)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String url) throws Exception {
        return getAsync(url).get(20, TimeUnit.SECONDS);
    }

    @Test
    void requestsSentTheInstantTheListenerAcceptsWaitForTheMetadataAndAreDecidedOnIt() throws Exception {
        idp = new IdpStandIn();
        idp.metadataGate = new CountDownLatch(1); // the IdP's metadata is slow to come
        mcp = new IdpStandIn();
        gateway = start(idp.port(), "", """
                routes: [{prefix: /mcp, url: "%s"}]
                """.formatted(mcp.base()));

        // The instant the listener accepts: a reconnect without scope, a registration, and a
        // request for another route.
        CompletableFuture<HttpResponse<String>> authorize =
                getAsync(gw() + "/oauth/authorize?" + authorizeQuery("configured-client", "s1", null));
        CompletableFuture<HttpResponse<String>> registration = registerAsync();
        HttpResponse<String> other = get(gw() + "/mcp/tools");

        assertThat(other.statusCode()).isEqualTo(200); // other routes never wait for the IdP's metadata
        assertThat(other.body()).isEqualTo("hello from /mcp/tools");
        HttpResponse<String> ready = get(admin() + "/readyz");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("\"listening\" : true").contains("\"metadata\" : false")
                .contains("\"draining\" : false");
        assertThat(authorize).isNotDone();
        assertThat(registration).isNotDone();
        assertThat(idp.authorizeQueries).isEmpty(); // held, not forwarded unclassified
        assertThat(idp.registrationsById).isEmpty();

        Thread.sleep(2_000); // the IdP's metadata answers after 2 s
        idp.metadataGate.countDown();

        HttpResponse<String> a = authorize.get(20, TimeUnit.SECONDS);
        assertThat(a.statusCode()).isEqualTo(302);
        assertThat(idp.authorizeQueries).containsExactly(authorizeQuery("configured-client", "s1", null) + "&scope=people%3Aread");
        HttpResponse<String> r = registration.get(20, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(201);
        String clientId = TestHttp.field(r.body(), "client_id");

        // captured: visible to the admin API, and its reconnect without scope gets its scopes
        HttpResponse<String> stored = get(admin() + "/admin/clients/" + clientId);
        assertThat(stored.statusCode()).isEqualTo(200);
        assertThat(stored.body()).contains("worker:read time-off:read");
        assertThat(get(gw() + "/oauth/authorize?" + authorizeQuery(clientId, "s2", null)).statusCode()).isEqualTo(302);
        assertThat(idp.authorizeQueries.get(1)).endsWith("&scope=worker%3Aread%20time-off%3Aread");

        String metrics = get(admin() + "/metrics").body();
        assertThat(metrics).contains("scopegate_metadata_waits_total{outcome=\"resumed\"} 2.0")
                .contains("scopegate_metadata_waits_total{outcome=\"unavailable\"} 0.0");
        assertThat(get(admin() + "/readyz").statusCode()).isEqualTo(200);
    }

    @Test
    void aWaitThatOutlastsTheUpstreamTimeoutsIs503WithRetryAfterAndNothingReachesTheIdp() throws Exception {
        idp = new IdpStandIn();
        idp.metadataGate = new CountDownLatch(1); // never answers while the request waits
        gateway = start(idp.port(), ", connect-timeout: 500ms, response-timeout: 1s", "");

        HttpResponse<String> r = get(gw() + "/oauth/authorize?" + authorizeQuery("configured-client", "s1", null));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("retry-after")).hasValue("5");
        assertThat(r.body()).contains("metadata");
        assertThat(idp.authorizeQueries).isEmpty();
        assertThat(get(admin() + "/metrics").body())
                .contains("scopegate_metadata_waits_total{outcome=\"unavailable\"} 1.0");

        idp.metadataGate.countDown(); // the IdP recovers: the next request is decided normally
        HttpResponse<String> again = get(gw() + "/oauth/authorize?" + authorizeQuery("configured-client", "s2", null));
        assertThat(again.statusCode()).isEqualTo(302);
        assertThat(idp.authorizeQueries).containsExactly(authorizeQuery("configured-client", "s2", null) + "&scope=people%3Aread");
    }

    @Test
    void aGatewayStartedBeforeItsIdpFetchesTheMetadataOnTheFirstRequestNotOnItsBackoff() throws Exception {
        int idpPort = KillNineTest.freePort();
        gateway = start(idpPort, ", connect-timeout: 500ms", "");
        // Let several rounds fail, so that the retry backoff is in seconds.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!get(admin() + "/metrics").body().matches("(?s).*scopegate_metadata_failures_total [3-9].*")) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(50);
        }
        idp = new IdpStandIn(idpPort);

        HttpResponse<String> r = get(gw() + "/oauth/authorize?" + authorizeQuery("configured-client", "s1", null));
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(idp.authorizeQueries).containsExactly(authorizeQuery("configured-client", "s1", null) + "&scope=people%3Aread");
    }

    @Test
    void endpointsNamedInConfigApplyAtOnce() throws Exception {
        idp = new IdpStandIn();
        idp.metadataGate = new CountDownLatch(1);
        gateway = start(idp.port(), "", """
                endpoints: {authorization: /oauth/authorize}
                """);
        HttpResponse<String> r = get(gw() + "/oauth/authorize?" + authorizeQuery("configured-client", "s1", null));
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(idp.authorizeQueries).containsExactly(authorizeQuery("configured-client", "s1", null) + "&scope=people%3Aread");
    }
}
