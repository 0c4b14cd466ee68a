package dev.scopegate.it;

import dev.scopegate.Gateway;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
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
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The three seed scenarios (shared/seed-scenarios.md) end to end over real sockets: a client,
 * scopegate, and an IdP stand-in that rejects authorization requests without scope.
 */
class SeedScenariosTest {

    static final String REDIRECT = "https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect";
    static final String SEED_SCOPE_QUERY = "worker%3Aread+time-off%3Aread+time-off%3Awrite+contracts%3Aread+people%3Aread";
    static final String SEED_SCOPE_APPENDED = "&scope=worker%3Aread%20time-off%3Aread%20time-off%3Awrite%20contracts%3Aread%20people%3Aread";

    @TempDir
    Path dir;
    IdpStandIn idp;
    Gateway gateway;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        idp = new IdpStandIn();
        gateway = Gateway.start(config(""));
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        idp.close();
    }

    ScopegateConfig config(String extraScopeYaml) throws Exception {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "%s", response-timeout: 5s}
                store: {type: embedded, path: "%s"}
                scope:
                  families:
                    - {name: chatgpt, redirect-hosts: [chatgpt.com]}
                %s
                """.formatted(idp.base(), dir.resolve("data").toString().replace("\\", "/"), extraScopeYaml);
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, yaml);
        return new ConfigLoader(name -> null).load(file);
    }

    String gw() {
        return "http://127.0.0.1:" + gateway.proxyPort();
    }

    String admin() {
        return "http://127.0.0.1:" + gateway.adminPort();
    }

    HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String url, String contentType, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    String register(String scopeOrNull) throws Exception {
        waitFor(() -> {
            try {
                return get(admin() + "/readyz").statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
        String body = "{\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],\"client_name\":\"ChatGPT\""
                + (scopeOrNull == null ? "" : ",\"scope\":\"" + scopeOrNull + "\"") + "}";
        HttpResponse<String> r = post(gw() + "/oauth/register", "application/json", body);
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.body()).contains("client_secret"); // relayed unchanged to the client
        return dev.scopegate.testing.TestHttp.field(r.body(), "client_id");
    }

    /** RFC 7636 appendix B. */
    static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    static final String CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    static String authorizeQuery(String clientId, String state, String scopeParam) {
        return authorizeQuery(clientId, state, scopeParam, "wQiZOt66Pv46ulV0WG8K9vqHiy1VcPaSmeEb5LqtD6Y");
    }

    static String authorizeQuery(String clientId, String state, String scopeParam, String challenge) {
        return "response_type=code&client_id=" + clientId + "&redirect_uri=" + REDIRECT + "&state=" + state
                + (scopeParam == null ? "" : "&scope=" + scopeParam)
                + "&code_challenge=" + challenge + "&code_challenge_method=S256"
                + "&resource=https%3A%2F%2Fmy-domain%2Fmcp";
    }

    HttpResponse<String> exchangeCode(String clientId, String verifier) throws Exception {
        return post(gw() + "/oauth/token", "application/x-www-form-urlencoded",
                "grant_type=authorization_code&code=c0de&redirect_uri=" + REDIRECT + "&client_id=" + clientId
                        + "&code_verifier=" + verifier);
    }

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in time");
            }
            Thread.sleep(20);
        }
    }

    String lastAuthorizeQuery() {
        return idp.authorizeQueries.get(idp.authorizeQueries.size() - 1);
    }

    @Test
    void firstConnectThenReconnectWithoutScopeThenAbandonedConsent() throws Exception {
        String clientId = register(null);

        // Scenario 1: with scope → untouched, and the IdP accepts it; the code exchange of the
        // same PKCE flow makes the requested scope the client's learned scope.
        String q1 = authorizeQuery(clientId, "oauth_s_691b55f5b11481919ddp59nge4998443f", SEED_SCOPE_QUERY, CHALLENGE);
        HttpResponse<String> r1 = get(gw() + "/oauth/authorize?" + q1);
        assertThat(r1.statusCode()).isEqualTo(302);
        assertThat(lastAuthorizeQuery()).isEqualTo(q1);
        assertThat(exchangeCode(clientId, VERIFIER).statusCode()).isEqualTo(200);
        waitFor(() -> {
            try {
                return get(admin() + "/admin/clients/" + clientId).body().contains("time-off:write");
            } catch (Exception e) {
                return false;
            }
        });

        // Scenario 2: reconnect without scope → the learned scope is appended, nothing else changes.
        String q2 = authorizeQuery(clientId, "oauth_s_691b57560b648191a5a85lt8e30e0894", null);
        HttpResponse<String> r2 = get(gw() + "/oauth/authorize?" + q2);
        assertThat(r2.statusCode()).isEqualTo(302);
        assertThat(r2.headers().firstValue("Location").orElseThrow())
                .contains("state=oauth_s_691b57560b648191a5a85lt8e30e0894");
        assertThat(lastAuthorizeQuery()).isEqualTo(q2 + SEED_SCOPE_APPENDED);

        // Scenario 3: abandoned consent, then connect with scopes → untouched.
        String q3 = authorizeQuery(clientId, "oauth_s_3", SEED_SCOPE_QUERY);
        assertThat(get(gw() + "/oauth/authorize?" + q3).statusCode()).isEqualTo(302);
        assertThat(lastAuthorizeQuery()).isEqualTo(q3);
    }

    @Test
    void anotherPartyCannotChangeWhatAClientLearns() throws Exception {
        String victim = register(null);
        // the victim's own flow: authorize with scope, then the code exchange
        get(gw() + "/oauth/authorize?" + authorizeQuery(victim, "v1", "worker%3Aread", CHALLENGE));
        assertThat(exchangeCode(victim, VERIFIER).statusCode()).isEqualTo(200);
        waitFor(() -> {
            try {
                return get(admin() + "/admin/clients/" + victim).body().contains("\"learned_scope\" : \"worker:read\"");
            } catch (Exception e) {
                return false;
            }
        });
        // someone else sends authorization requests with the victim's client_id and other scopes,
        // and even exchanges a code without the victim's verifier
        get(gw() + "/oauth/authorize?" + authorizeQuery(victim, "evil", "people%3Aread", "attackerChallengeAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        exchangeCode(victim, "attacker-verifier-that-matches-nothing-000000000");
        get(gw() + "/oauth/authorize?" + authorizeQuery(victim, "v2", null));
        assertThat(lastAuthorizeQuery()).endsWith("&scope=worker%3Aread");
    }

    @Test
    void theGrantedScopeOfATokenResponseIsLearned() throws Exception {
        idp.tokenScope = "people:read";
        String clientId = register(null);
        assertThat(exchangeCode(clientId, "any-verifier-0000000000000000000000000000000").statusCode()).isEqualTo(200);
        waitFor(() -> {
            try {
                return get(admin() + "/admin/clients/" + clientId).body().contains("people:read");
            } catch (Exception e) {
                return false;
            }
        });
        get(gw() + "/oauth/authorize?" + authorizeQuery(clientId, "s", null));
        assertThat(lastAuthorizeQuery()).endsWith("&scope=people%3Aread");
    }

    @Test
    void directlyAtTheIdpTheReconnectFails() throws Exception {
        String clientId = register(IdpStandIn.SEED_SCOPE);
        HttpResponse<String> direct = get(idp.base() + "/oauth/authorize?" + authorizeQuery(clientId, "s", null));
        assertThat(direct.statusCode()).isEqualTo(400);
        HttpResponse<String> via = get(gw() + "/oauth/authorize?" + authorizeQuery(clientId, "s", null));
        assertThat(via.statusCode()).isEqualTo(302);
    }

    @Test
    void registeredScopeIsUsedAndClientsNeverSeeEachOthersScopes() throws Exception {
        String a = register("worker:read");
        String b = register("people:read contracts:read");
        get(gw() + "/oauth/authorize?" + authorizeQuery(a, "sa", null));
        assertThat(lastAuthorizeQuery()).endsWith("&scope=worker%3Aread");
        get(gw() + "/oauth/authorize?" + authorizeQuery(b, "sb", null));
        assertThat(lastAuthorizeQuery()).endsWith("&scope=people%3Aread%20contracts%3Aread");
        get(gw() + "/oauth/authorize?" + authorizeQuery(a, "sa2", ""));
        assertThat(lastAuthorizeQuery()).contains("&scope=worker%3Aread&").doesNotContain("people");
    }

    @Test
    void postAuthorizeAndParWithoutScopeAreRewritten() throws Exception {
        String clientId = register(IdpStandIn.SEED_SCOPE);
        String form = authorizeQuery(clientId, "post-state", null);
        HttpResponse<String> r = post(gw() + "/oauth/authorize", "application/x-www-form-urlencoded", form);
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(lastAuthorizeQuery()).isEqualTo(form + SEED_SCOPE_APPENDED);

        HttpResponse<String> par = post(gw() + "/oauth/par", "application/x-www-form-urlencoded", form);
        assertThat(par.statusCode()).isEqualTo(201);
        assertThat(idp.parBodies).last().isEqualTo(form + SEED_SCOPE_APPENDED);
    }

    @Test
    void registrationSurvivesARestart() throws Exception {
        String clientId = register(IdpStandIn.SEED_SCOPE);
        gateway.close();
        gateway = Gateway.start(config(""));
        waitFor(() -> {
            try {
                return get(admin() + "/readyz").statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
        String q = authorizeQuery(clientId, "after-restart", null);
        assertThat(get(gw() + "/oauth/authorize?" + q).statusCode()).isEqualTo(302);
        assertThat(lastAuthorizeQuery()).isEqualTo(q + SEED_SCOPE_APPENDED);
    }

    @Test
    void deleteThroughRfc7592RemovesTheEntry() throws Exception {
        String clientId = register(IdpStandIn.SEED_SCOPE);
        HttpResponse<Void> del = http.send(HttpRequest.newBuilder(URI.create(gw() + "/oauth/register/" + clientId))
                .DELETE().build(), HttpResponse.BodyHandlers.discarding());
        assertThat(del.statusCode()).isEqualTo(204);
        assertThat(del.headers().firstValue("Content-Length")).isEmpty(); // RFC 9110 §8.6
        assertThat(get(admin() + "/admin/clients/" + clientId).statusCode()).isEqualTo(404);
        get(gw() + "/oauth/authorize?" + authorizeQuery(clientId, "s", null));
        assertThat(lastAuthorizeQuery()).doesNotContain("scope=");
    }

    @Test
    void unknownClientGetsTheDefaultScopeAndMetricsCountIt() throws Exception {
        gateway.close();
        gateway = Gateway.start(config("  default: \"worker:read\""));
        register(null); // waits for readiness
        get(gw() + "/oauth/authorize?" + authorizeQuery("never-registered", "s", null));
        assertThat(lastAuthorizeQuery()).endsWith("&scope=worker%3Aread");
        String metrics = get(admin() + "/metrics").body();
        assertThat(metrics).contains("scopegate_rewrites_total{family=\"chatgpt\",source=\"default\"} 1.0");
    }

    @Test
    void metadataIsServedFromTheCache() throws Exception {
        register(null);
        int before = idp.metadataRequests.get();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> m = get(gw() + "/.well-known/oauth-authorization-server");
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.body()).contains("\"issuer\"");
        }
        assertThat(idp.metadataRequests.get()).isEqualTo(before);
    }

    @Test
    void thousandsOfPipelinedLocalAnswersKeepTheirOrder() throws Exception {
        register(null); // readiness: metadata cached
        // many answers produced without any I/O between them, from one socket read: handled in a
        // loop, not by recursion
        int n = 20000;
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < n; i++) {
            batch.append("GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost:x\r\n\r\n");
        }
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.proxyPort())) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(batch.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            java.io.InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
            int answered = 0;
            StringBuilder line = new StringBuilder();
            int contentLength = -1;
            int c;
            while (answered < n && (c = in.read()) >= 0) {
                if (c != '\n') {
                    line.append((char) c);
                    continue;
                }
                String l = line.toString().trim();
                line.setLength(0);
                if (l.regionMatches(true, 0, "content-length:", 0, 15)) {
                    contentLength = Integer.parseInt(l.substring(15).trim());
                } else if (l.isEmpty() && contentLength >= 0) {
                    in.readNBytes(contentLength);
                    contentLength = -1;
                    answered++;
                } else if (l.startsWith("HTTP/1.1 ")) {
                    assertThat(l).startsWith("HTTP/1.1 200");
                }
            }
            assertThat(answered).isEqualTo(n);
        }
    }
}
