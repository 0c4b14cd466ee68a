package dev.scopegate.ops;

import dev.scopegate.Gateway;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * A gateway started from a real config file in a temp directory, in front of a {@link TestIdp},
 * with an HTTP client for both of its ports. Not thread-safe except {@link #get} and {@link #post}.
 */
public final class Harness implements AutoCloseable {

    public static final String REDIRECT = "https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect";

    public final TestIdp idp;
    public final Path dir;
    public final Path file;
    /** The environment the gateway's {@code ${VAR}} lookups see; tests may change it and reload. */
    public final Map<String, String> env = new ConcurrentHashMap<>();
    public Gateway gateway;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    public Harness(Path dir) throws IOException {
        this(dir, new TestIdp());
    }

    /** A harness in front of {@code idp} (closed with the harness), e.g. an https one. */
    public Harness(Path dir, TestIdp idp) {
        this.dir = dir;
        this.file = dir.resolve("scopegate.yaml");
        this.idp = idp;
    }

    /**
     * The config text: loopback listeners on free ports (unless {@code extraYaml} has its own
     * {@code admin:}), the test IdP, a store in the temp directory, family {@code chatgpt}, then
     * {@code scopeYaml} (lines indented under {@code scope:}) and {@code extraYaml} (top-level
     * sections). The scope lines are line 8 of the file.
     */
    public String yaml(String scopeYaml, String extraYaml) {
        String admin = extraYaml.contains("admin:") ? "" : "admin: {host: 127.0.0.1, port: 0}";
        return """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                %s
                upstream: {url: "%s", response-timeout: 5s}
                store: {type: embedded, path: "%s"}
                scope:
                  families:
                    - {name: chatgpt, redirect-hosts: [chatgpt.com]}
                %s
                %s
                """.formatted(admin, idp.base(), dir.resolve("data").toString().replace("\\", "/"), scopeYaml, extraYaml);
    }

    /** Writes {@code text} as the config file and starts the gateway from it, waiting for readiness. */
    public Harness start(String text) throws Exception {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        gateway = Gateway.start(file, env::get, Duration.ofMillis(100));
        waitFor(() -> status(admin() + "/readyz") == 200);
        return this;
    }

    public String gw() {
        return "http://127.0.0.1:" + gateway.proxyPort();
    }

    public String admin() {
        return "http://127.0.0.1:" + gateway.adminPort();
    }

    public HttpResponse<String> get(String url, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String url, String contentType, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> delete(String url, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).DELETE();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The status of a GET, or -1 when it could not be sent. */
    public int status(String url) {
        try {
            return get(url).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    public Scrape scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = get(admin() + "/metrics");
        if (r.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + r.statusCode());
        }
        return Scrape.parse(r.body());
    }

    /** Registers a client through the gateway; returns its client_id. */
    public String register(String scopeOrNull) throws IOException, InterruptedException {
        String body = "{\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],\"client_name\":\"ChatGPT\""
                + (scopeOrNull == null ? "" : ",\"scope\":\"" + scopeOrNull + "\"") + "}";
        HttpResponse<String> r = post(gw() + "/oauth/register", "application/json", body);
        if (r.statusCode() != 201) {
            throw new AssertionError("register answered " + r.statusCode());
        }
        return dev.scopegate.testing.TestHttp.field(r.body(), "client_id");
    }

    public static String authorizeQuery(String clientId, String state, String scopeParam) {
        return "response_type=code&client_id=" + clientId + "&redirect_uri=" + REDIRECT + "&state=" + state
                + (scopeParam == null ? "" : "&scope=" + scopeParam)
                + "&code_challenge=wQiZOt66Pv46ulV0WG8K9vqHiy1VcPaSmeEb5LqtD6Y&code_challenge_method=S256";
    }

    public HttpResponse<String> authorize(String clientId, String state, String scopeParam)
            throws IOException, InterruptedException {
        return get(gw() + "/oauth/authorize?" + authorizeQuery(clientId, state, scopeParam));
    }

    /** Waits (at most 10 s) for {@code condition}; fails the test otherwise. */
    /** RFC 7636 appendix B: a verifier and its S256 challenge. */
    public static final String VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    public static final String CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    /**
     * A first connect that teaches scopegate the client's scope: authorize with {@code scopeParam}
     * and the appendix-B challenge, then the code exchange with its verifier.
     */
    public void firstConnect(String clientId, String scopeParam) throws IOException, InterruptedException {
        get(gw() + "/oauth/authorize?" + authorizeQuery(clientId, "first", scopeParam)
                .replace("wQiZOt66Pv46ulV0WG8K9vqHiy1VcPaSmeEb5LqtD6Y", CHALLENGE));
        post(gw() + "/oauth/token", "application/x-www-form-urlencoded",
                "grant_type=authorization_code&code=c0de&client_id=" + clientId + "&code_verifier=" + VERIFIER);
    }

    public static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in time");
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        if (gateway != null) {
            gateway.close();
        }
        idp.close();
    }
}
