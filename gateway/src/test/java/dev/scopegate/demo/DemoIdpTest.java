package dev.scopegate.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The demo's legacy IdP on its own: a real socket, a real client. */
class DemoIdpTest {

    private static final JsonMapper JSON = new JsonMapper();
    private static final String REDIRECT = "https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect";
    /** RFC 7636 appendix B. */
    private static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private DemoIdp idp;

    @BeforeEach
    void start() throws Exception {
        idp = DemoIdp.start(0);
    }

    @AfterEach
    void stop() {
        idp.close();
    }

    private HttpResponse<String> get(String pathAndQuery) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(idp.issuer() + pathAndQuery)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String contentType, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(idp.issuer() + path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String register(String scope) throws Exception {
        HttpResponse<String> r = post("/oauth/register", "application/json", "{\"redirect_uris\":"
                + "[\"https://chatgpt.com/connector_platform_oauth_redirect\"],\"scope\":\"" + scope + "\"}");
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("client_secret").asText()).isNotBlank();
        assertThat(body.path("scope").asText()).isEqualTo(scope);
        return body.path("client_id").asText();
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("error").asText();
    }

    @Test
    void servesMetadataNamingItsEndpoints() throws Exception {
        for (String path : new String[]{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
            JsonNode m = JSON.readTree(get(path).body());
            assertThat(m.path("issuer").asText()).isEqualTo(idp.issuer());
            assertThat(m.path("authorization_endpoint").asText()).isEqualTo(idp.issuer() + "/oauth/authorize");
            assertThat(m.path("registration_endpoint").asText()).isEqualTo(idp.issuer() + "/oauth/register");
            assertThat(m.path("token_endpoint").asText()).isEqualTo(idp.issuer() + "/oauth/token");
            assertThat(m.path("scopes_supported").toString()).contains("files:read", "files:write");
        }
    }

    @Test
    void registersClientsInSequenceAndRefusesOnesWithoutRedirectUris() throws Exception {
        assertThat(register("files:read")).isEqualTo("demo-client-1");
        assertThat(register("files:write")).isEqualTo("demo-client-2");
        HttpResponse<String> none = post("/oauth/register", "application/json", "{\"client_name\":\"x\"}");
        assertThat(none.statusCode()).isEqualTo(400);
        assertThat(error(none)).isEqualTo("invalid_redirect_uri");
        assertThat(post("/oauth/register", "application/json", "not json").statusCode()).isEqualTo(400);
    }

    @Test
    void refusesAnAuthorizationRequestWithoutScopeAndAcceptsOneWithScope() throws Exception {
        String client = register("files:read files:write");
        String base = "/oauth/authorize?response_type=code&client_id=" + client + "&redirect_uri=" + REDIRECT
                + "&state=s%2B1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

        for (String noScope : new String[]{base, base + "&scope=", base + "&scope=%20"}) {
            HttpResponse<String> refused = get(noScope);
            assertThat(refused.statusCode()).as(noScope).isEqualTo(400);
            assertThat(error(refused)).isEqualTo("invalid_scope");
            assertThat(refused.headers().firstValue(DemoIdp.SCOPE_HEADER)).hasValue("(none)");
        }

        HttpResponse<String> accepted = get(base + "&scope=files%3Aread%20files%3Awrite");
        assertThat(accepted.statusCode()).isEqualTo(302);
        String location = accepted.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith("https://chatgpt.com/connector_platform_oauth_redirect?code=").endsWith("&state=s%2B1");
        assertThat(accepted.headers().firstValue(DemoIdp.SCOPE_HEADER)).hasValue("files:read files:write");
        assertThat(accepted.headers().firstValue(DemoIdp.QUERY_HEADER)).hasValue(base.substring(base.indexOf('?') + 1)
                + "&scope=files%3Aread%20files%3Awrite");

        // The code is good once, with the right verifier, and grants the scope asked for.
        String code = location.substring(location.indexOf("code=") + 5, location.indexOf("&state"));
        String exchange = "grant_type=authorization_code&client_id=" + client + "&redirect_uri=" + REDIRECT + "&code=" + code;
        HttpResponse<String> wrongVerifier = post("/oauth/token", "application/x-www-form-urlencoded",
                exchange + "&code_verifier=not-the-verifier");
        assertThat(error(wrongVerifier)).isEqualTo("invalid_grant");
        // (a failed exchange spends the code, as a careful IdP does)
        String code2 = authorizeCode(base + "&scope=files%3Aread");
        HttpResponse<String> token = post("/oauth/token", "application/x-www-form-urlencoded",
                exchange.replace(code, code2) + "&code_verifier=" + VERIFIER);
        assertThat(token.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(token.body()).path("scope").asText()).isEqualTo("files:read");
        assertThat(post("/oauth/token", "application/x-www-form-urlencoded", exchange.replace(code, code2)
                + "&code_verifier=" + VERIFIER).statusCode()).isEqualTo(400);
    }

    private String authorizeCode(String pathAndQuery) throws Exception {
        String location = get(pathAndQuery).headers().firstValue("Location").orElseThrow();
        return location.substring(location.indexOf("code=") + 5, location.indexOf("&state"));
    }

    @Test
    void refusesUnknownClientsAndUnregisteredRedirects() throws Exception {
        HttpResponse<String> unknown = get("/oauth/authorize?response_type=code&client_id=nobody&scope=files%3Aread");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("unknown client_id");

        String client = register("files:read");
        HttpResponse<String> elsewhere = get("/oauth/authorize?response_type=code&client_id=" + client
                + "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=files%3Aread");
        assertThat(elsewhere.statusCode()).isEqualTo(400);
        assertThat(elsewhere.body()).contains("redirect_uri is not registered");
        assertThat(elsewhere.headers().firstValue("Location")).isEmpty();
    }
}
