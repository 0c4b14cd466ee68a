package dev.scopegate.loadtest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The simulator on a real socket, through the JDK's HTTP client. */
class IdpSimulatorTest {

    private static IdpSimulator sim;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        sim = IdpSimulator.start("127.0.0.1", 0, 1);
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    private static HttpResponse<String> get(String pathAndQuery) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sim.port() + pathAndQuery))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String type, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sim.port() + path))
                .timeout(Duration.ofSeconds(5)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metadataNamesTheEndpointsAndScopes() throws Exception {
        HttpResponse<String> r = get("/.well-known/oauth-authorization-server");
        String origin = "http://127.0.0.1:" + sim.port();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"issuer\":\"" + origin + "\"",
                "\"authorization_endpoint\":\"" + origin + "/oauth/authorize\"",
                "\"registration_endpoint\":\"" + origin + "/oauth/register\"", "\"worker:read\"");
        assertThat(get("/.well-known/openid-configuration").statusCode()).isEqualTo(200);
    }

    @Test
    void authorizeWithScopeRedirectsWithCodeAndStateAndEchoesTheRawQuery() throws Exception {
        String query = "response_type=code&client_id=c1&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fcb"
                + "&state=s%2B1&scope=worker%3Aread%20people%3Aread";
        HttpResponse<String> r = get("/oauth/authorize?" + query);
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue("location")).get().asString()
                .startsWith("https://chatgpt.com/cb?code=sim-code-").endsWith("&state=s%2B1");
        assertThat(r.headers().firstValue(IdpSimulator.ECHO_HEADER)).contains(query);
        // deterministic: the same request, the same answer
        assertThat(get("/oauth/authorize?" + query).headers().firstValue("location"))
                .isEqualTo(r.headers().firstValue("location"));
    }

    @Test
    void authorizeWithoutScopeIsRejectedLikeTheLegacyIdp() throws Exception {
        String query = "response_type=code&client_id=c1&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fcb&state=s";
        HttpResponse<String> r = get("/oauth/authorize?" + query);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("invalid_request");
        assertThat(r.headers().firstValue(IdpSimulator.ECHO_HEADER)).contains(query);
        assertThat(get("/oauth/authorize?" + query + "&scope=").statusCode()).isEqualTo(400);
    }

    @Test
    void authorizeAsAFormPostEchoesTheBody() throws Exception {
        String form = "client_id=c1&redirect_uri=https%3A%2F%2Fclaude.ai%2Fcb&scope=worker%3Aread";
        HttpResponse<String> r = post("/oauth/authorize", "application/x-www-form-urlencoded", form);
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(r.headers().firstValue(IdpSimulator.ECHO_HEADER)).contains(form);
    }

    @Test
    void registrationAnswers201WithANewClientIdAndEchoesTheMetadata() throws Exception {
        String body = "{\"client_name\":\"ChatGPT\",\"redirect_uris\":[\"https://chatgpt.com/cb\"],\"scope\":\"worker:read\"}";
        HttpResponse<String> first = post("/oauth/register", "application/json", body);
        HttpResponse<String> second = post("/oauth/register", "application/json", body);
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(first.headers().firstValue("content-type")).contains("application/json");
        assertThat(first.body()).contains("\"client_id\":\"sim-", "\"client_secret\":", "\"registration_access_token\":",
                "\"redirect_uris\":[\"https://chatgpt.com/cb\"]", "\"scope\":\"worker:read\"", "\"client_name\":\"ChatGPT\"");
        assertThat(second.body()).isNotEqualTo(first.body());
        assertThat(post("/oauth/register", "application/json", "not json").statusCode()).isEqualTo(400);
    }

    @Test
    void tokenAndGenericAnswers() throws Exception {
        HttpResponse<String> token = post("/oauth/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=x");
        assertThat(token.statusCode()).isEqualTo(200);
        assertThat(token.body()).contains("\"token_type\":\"Bearer\"", "\"scope\":");
        HttpResponse<String> any = get("/api/anything?x=1");
        assertThat(any.statusCode()).isEqualTo(200);
        assertThat(any.body()).contains("\"ok\":true");
        HttpResponse<String> posted = post("/api/tools", "application/json", "{\"a\":1}");
        assertThat(posted.headers().firstValue("x-body-length")).contains("7");
    }

    @Test
    void sseSendsTheRequestedNumberOfEventsThenEnds() throws Exception {
        HttpResponse<String> r = get("/sse?n=3&ms=5");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).contains("text/event-stream");
        assertThat(r.body()).contains("id: 0\n", "id: 2\n", "data: {\"n\":2}\n\n").doesNotContain("id: 3");
    }
}
