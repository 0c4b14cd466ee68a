package dev.scopegate.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.scopegate.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Issue 16 items 2, 3 and 5 end to end, through a gateway started from a config file in front of
 * an IdP that records the exact bytes it receives: PKCE advertised where the IdP's metadata omits
 * it ({@code metadata.augment.code-challenge-methods-supported}), {@code compat.resource-parameter}
 * on authorization (GET and form POST), PAR and token requests, and
 * {@code scope.fill-registration}.
 */
class CompatTest {

    static final String REDIRECT = "https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect";
    static final String MCP = "https%3A%2F%2Fmcp.example%2Fmcp";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    RecordingIdp idp;
    Gateway gateway;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (idp != null) {
            idp.close();
        }
    }

    void start(/* nullable */ String pkce, String yaml) throws Exception {
        idp = new RecordingIdp(pkce);
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "%s", response-timeout: 5s}
                store: {type: embedded, path: "%s"}
                %s
                """.formatted(idp.base(), dir.resolve("data").toString().replace("\\", "/"), yaml));
        gateway = Gateway.start(file, name -> null, Duration.ofMillis(50));
        SeedScenariosTest.waitFor(() -> {
            try {
                return send(HttpRequest.newBuilder(URI.create(admin() + "/readyz"))).statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
    }

    String gw() {
        return "http://127.0.0.1:" + gateway.proxyPort();
    }

    String admin() {
        return "http://127.0.0.1:" + gateway.adminPort();
    }

    HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String url) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url)));
    }

    HttpResponse<String> post(String url, String type, String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.ISO_8859_1)));
    }

    // ---- item 2: code_challenge_methods_supported ----

    @Test
    void pkceMethodsAreAddedToBothDocumentsOnlyWhereTheIdpOmitsThem() throws Exception {
        start(null, "metadata: {augment: {code-challenge-methods-supported: [S256]}}");
        for (String path : new String[]{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
            HttpResponse<String> r = get(gw() + path);
            assertThat(r.statusCode()).as(path).isEqualTo(200);
            JsonNode served = JSON.readTree(r.body());
            JsonNode upstream = JSON.readTree(idp.metadata());
            assertThat(served.get("code_challenge_methods_supported").toString()).as(path).isEqualTo("[\"S256\"]");
            assertThat(served.get("issuer")).isEqualTo(upstream.get("issuer"));
            ((com.fasterxml.jackson.databind.node.ObjectNode) served).remove("code_challenge_methods_supported");
            assertThat(served).as("every other member as the IdP sent it").isEqualTo(upstream);
        }
    }

    @Test
    void pkceMethodsTheIdpAdvertisesAreServedAsTheySentThem() throws Exception {
        start("[\"plain\"]", "metadata: {augment: {code-challenge-methods-supported: [S256]}}");
        assertThat(get(gw() + "/.well-known/oauth-authorization-server").body()).isEqualTo(idp.metadata());
        assertThat(get(gw() + "/.well-known/openid-configuration").body()).isEqualTo(idp.metadata());
    }

    @Test
    void pkceMethodsAreNotAddedByDefault() throws Exception {
        start(null, "");
        assertThat(get(gw() + "/.well-known/oauth-authorization-server").body()).isEqualTo(idp.metadata());
    }

    // ---- item 3: compat.resource-parameter ----

    /** Two resources (one percent-encoded name), a look-alike and a scope: what every mode is shown. */
    static final String PARAMS = "response_type=code&client_id=c1&redirect_uri=" + REDIRECT
            + "&resource=" + MCP + "&resources=keep%20me&scope=files%3Aread&%72esource=https%3A%2F%2Ftwo&state=s+1";
    static final String STRIPPED = "response_type=code&client_id=c1&redirect_uri=" + REDIRECT
            + "&resources=keep%20me&scope=files%3Aread&state=s+1";
    static final String AUDIENCE = "response_type=code&client_id=c1&redirect_uri=" + REDIRECT
            + "&audience=" + MCP + "&resources=keep%20me&scope=files%3Aread&state=s+1";
    static final String TOKEN = "grant_type=authorization_code&code=c0de&redirect_uri=" + REDIRECT
            + "&code_verifier=v3rifier&client_id=c1&resource=" + MCP;
    static final String FORM = "application/x-www-form-urlencoded";

    /** What the IdP received for {@link #PARAMS} at each endpoint, and for {@link #TOKEN}. */
    void assertEveryEndpointReceives(String expected, String expectedToken) throws Exception {
        assertThat(get(gw() + "/oauth/authorize?" + PARAMS).statusCode()).isEqualTo(302);
        assertThat(idp.last("/oauth/authorize").query()).isEqualTo(expected);

        assertThat(post(gw() + "/oauth/authorize", FORM, PARAMS).statusCode()).isEqualTo(302);
        assertBody(idp.last("/oauth/authorize"), expected);

        assertThat(post(gw() + "/oauth/par", FORM, PARAMS).statusCode()).isEqualTo(201);
        assertBody(idp.last("/oauth/par"), expected);

        assertThat(post(gw() + "/oauth/token", FORM, TOKEN).statusCode()).isEqualTo(200);
        assertBody(idp.last("/oauth/token"), expectedToken);
    }

    static void assertBody(RecordingIdp.Received r, String expected) {
        assertThat(r.bodyText()).isEqualTo(expected);
        assertThat(r.contentLength()).isEqualTo(String.valueOf(expected.length()));
    }

    @Test
    void forwardByDefaultKeepsEveryByte() throws Exception {
        start("[\"S256\"]", "");
        assertEveryEndpointReceives(PARAMS, TOKEN);
    }

    @Test
    void stripRemovesTheResourceParametersAndNothingElse() throws Exception {
        start("[\"S256\"]", "compat: {resource-parameter: strip}");
        assertEveryEndpointReceives(STRIPPED, TOKEN.substring(0, TOKEN.indexOf("&resource=")));
    }

    @Test
    void stripAppliesToTokenRequestsThatAreNotReadForLearning() throws Exception {
        start("[\"S256\"]", """
                compat: {resource-parameter: strip}
                scope: {learn: {authorize: false, token: false}}
                """);
        assertThat(post(gw() + "/oauth/token", FORM, TOKEN).statusCode()).isEqualTo(200);
        assertBody(idp.last("/oauth/token"), TOKEN.substring(0, TOKEN.indexOf("&resource=")));
        // a form without resource goes as it came
        assertThat(post(gw() + "/oauth/token", FORM, "grant_type=refresh_token&refresh_token=r+t").statusCode()).isEqualTo(200);
        assertBody(idp.last("/oauth/token"), "grant_type=refresh_token&refresh_token=r+t");
    }

    @Test
    void audienceRenamesTheFirstResource() throws Exception {
        start("[\"S256\"]", "compat: {resource-parameter: audience}");
        assertEveryEndpointReceives(AUDIENCE, TOKEN.replace("&resource=", "&audience="));

        // an audience the client sent wins: the resources are only dropped
        get(gw() + "/oauth/authorize?audience=api&" + PARAMS);
        assertThat(idp.last("/oauth/authorize").query()).isEqualTo("audience=api&" + STRIPPED);
    }

    @Test
    void theScopeChainStillSeesTheResourceThatIsStripped() throws Exception {
        start("[\"S256\"]", """
                compat: {resource-parameter: strip}
                resources:
                  - {resource: "https://mcp.example/mcp", scopes-supported: ["files:read"]}
                scope: {sources: [resource]}
                """);
        String query = "response_type=code&client_id=c1&redirect_uri=" + REDIRECT + "&resource=" + MCP + "&state=s1";
        get(gw() + "/oauth/authorize?" + query);
        assertThat(idp.last("/oauth/authorize").query())
                .isEqualTo("response_type=code&client_id=c1&redirect_uri=" + REDIRECT + "&state=s1&scope=files%3Aread");

        post(gw() + "/oauth/par", FORM, query);
        assertBody(idp.last("/oauth/par"),
                "response_type=code&client_id=c1&redirect_uri=" + REDIRECT + "&state=s1&scope=files%3Aread");
    }

    // ---- item 5: scope.fill-registration ----

    static final String DCR = "{ \"client_name\" : \"Claude\",\n  \"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],"
            + "\"token_endpoint_auth_method\":\"none\" }";

    HttpResponse<String> register(String body) throws Exception {
        return post(gw() + "/oauth/register", "application/json", body);
    }

    @Test
    void aRegistrationWithoutScopeGetsTheFamilyScopeAndIsStoredWithIt() throws Exception {
        start("[\"S256\"]", """
                scope:
                  fill-registration: true
                  families:
                    - {name: chatgpt, redirect-hosts: [chatgpt.com], scope: "files:read offline_access"}
                """);
        HttpResponse<String> r = register(DCR);
        assertThat(r.statusCode()).isEqualTo(201);
        String expected = "{\"scope\":\"files:read offline_access\"," + DCR.substring(1);
        assertBody(idp.last("/oauth/register"), expected);
        String clientId = JSON.readTree(r.body()).get("client_id").asText();
        assertThat(JSON.readTree(r.body()).get("scope").asText()).isEqualTo("files:read offline_access");
        HttpResponse<String> stored = get(admin() + "/admin/clients/" + clientId);
        assertThat(JSON.readTree(stored.body()).toString()).contains("\"scope\":\"files:read offline_access\"");
        assertThat(get(admin() + "/metrics").body())
                .contains("scopegate_registration_scopes_filled_total{family=\"chatgpt\",source=\"client\"} 1.0");

        // an empty or null scope is filled in place; a scope the client chose is never changed
        register("{\"scope\":\"\",\"redirect_uris\":[\"https://chatgpt.com/cb\"]}");
        assertBody(idp.last("/oauth/register"),
                "{\"scope\":\"files:read offline_access\",\"redirect_uris\":[\"https://chatgpt.com/cb\"]}");
        register("{\"redirect_uris\":[\"https://chatgpt.com/cb\"], \"scope\" : null}");
        assertBody(idp.last("/oauth/register"),
                "{\"redirect_uris\":[\"https://chatgpt.com/cb\"], \"scope\" : \"files:read offline_access\"}");
        String chosen = "{\"scope\":\"openid\",\"redirect_uris\":[\"https://chatgpt.com/cb\"]}";
        register(chosen);
        assertBody(idp.last("/oauth/register"), chosen);
    }

    @Test
    void aRegistrationWithoutScopeGetsTheDefaultAfterThePolicy() throws Exception {
        start("[\"S256\"]", """
                scope: {fill-registration: true, default: "files:read admin:all", sources: [client, registered, default]}
                """);
        register("{}");
        assertBody(idp.last("/oauth/register"), "{\"scope\":\"files:read\"}"); // admin:all is not supported
    }

    @Test
    void dryRunDecidesButSendsTheRegistrationUnchanged() throws Exception {
        start("[\"S256\"]", """
                scope: {fill-registration: true, dry-run: true, default: "files:read"}
                """);
        register(DCR);
        assertBody(idp.last("/oauth/register"), DCR);
        assertThat(get(admin() + "/metrics").body()).doesNotContain("scopegate_registration_scopes_filled_total{");
    }

    @Test
    void registrationsAreNotFilledByDefault() throws Exception {
        start("[\"S256\"]", """
                scope:
                  default: "files:read"
                  families:
                    - {name: chatgpt, redirect-hosts: [chatgpt.com], scope: "files:read"}
                """);
        register(DCR);
        assertBody(idp.last("/oauth/register"), DCR);
    }
}
