package dev.scopegate.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.scopegate.Gateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import static dev.scopegate.testing.TestHttp.json;
import static dev.scopegate.testing.TestHttp.param;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Items 4, 6 and 7 of issue 16 through a real gateway over real sockets: the IdP's answers to
 * rewritten requests counted and an {@code invalid_scope} rejection demoting the candidate
 * ({@code scopegate_rewrite_outcomes_total}), {@code scope.add-always}, and {@code compat.add-iss}.
 */
class OutcomesGatewayTest {

    static final String CB = "https://chatgpt.com/cb";
    static final String CB_ENC = "https%3A%2F%2Fchatgpt.com%2Fcb";

    @TempDir
    Path dir;
    Idp idp;
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

    /** A legacy IdP that rejects the scopes in {@link #rejected} with invalid_scope, and may resume on a login page. */
    static final class Idp implements AutoCloseable {
        final HttpServer server;
        final Set<String> rejected = ConcurrentHashMap.newKeySet();
        final List<String> authorizeQueries = new CopyOnWriteArrayList<>();
        final List<String> parBodies = new CopyOnWriteArrayList<>();
        final ConcurrentHashMap<String, String> interactions = new ConcurrentHashMap<>();
        volatile boolean interaction;
        volatile String errorRedirect; // where errors go instead of the request's redirect_uri (a faulty IdP)
        volatile String metadataExtra = "";

        Idp() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
            server.setExecutor(Executors.newFixedThreadPool(4));
            server.createContext("/", this::handle);
            server.start();
        }

        String base() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        boolean rejects(String scope) {
            for (String s : scope.split(" ")) {
                if (rejected.contains(s)) {
                    return true;
                }
            }
            return false;
        }

        private void handle(HttpExchange ex) throws IOException {
            try (ex) {
                String path = ex.getRequestURI().getRawPath();
                String query = ex.getRequestURI().getRawQuery();
                byte[] body = ex.getRequestBody().readAllBytes();
                if (path.startsWith("/.well-known/oauth-authorization-server")) {
                    json(ex, 200, """
                            {"issuer":"%1$s","authorization_endpoint":"%1$s/oauth/authorize","token_endpoint":"%1$s/oauth/token",
                             "registration_endpoint":"%1$s/oauth/register","pushed_authorization_request_endpoint":"%1$s/oauth/par",
                             "scopes_supported":["a","b","offline_access"],"response_types_supported":["code"]%2$s}
                            """.formatted(base(), metadataExtra));
                    return;
                }
                if (path.equals("/oauth/register")) {
                    String req = new String(body, StandardCharsets.UTF_8);
                    String id = "client-" + interactions.size() + "-" + System.nanoTime();
                    String scope = dev.scopegate.testing.TestHttp.field(req, "scope");
                    json(ex, 201, "{\"client_id\":\"%s\",\"redirect_uris\":[\"%s\"],\"scope\":\"%s\"}"
                            .formatted(id, CB, scope));
                    return;
                }
                if (path.equals("/oauth/par")) {
                    String form = new String(body, StandardCharsets.ISO_8859_1);
                    parBodies.add(form);
                    String scope = param(form, "scope");
                    if (scope == null || rejects(scope)) {
                        json(ex, 400, "{\"error\":\"invalid_scope\",\"error_description\":\"no\"}");
                        return;
                    }
                    json(ex, 201, "{\"request_uri\":\"urn:ietf:params:oauth:request_uri:abc\",\"expires_in\":60}");
                    return;
                }
                if (path.equals("/oauth/authorize")) {
                    authorizeQueries.add(query);
                    String scope = param(query, "scope");
                    String redirect = param(query, "redirect_uri");
                    String state = param(query, "state");
                    if (scope == null || rejects(scope)) {
                        String to = errorRedirect != null ? errorRedirect : redirect;
                        redirect(ex, to + "?error=invalid_scope&state=" + state);
                        return;
                    }
                    if (interaction) {
                        String uid = "u" + interactions.size();
                        interactions.put(uid, redirect + "?code=c0de&state=" + state);
                        redirect(ex, "/login/" + uid);
                        return;
                    }
                    redirect(ex, redirect + "?code=c0de&state=" + state);
                    return;
                }
                if (path.startsWith("/login/")) {
                    String to = interactions.get(path.substring("/login/".length()));
                    redirect(ex, to == null ? "/login/unknown" : to);
                    return;
                }
                if (path.equals("/elsewhere")) {
                    redirect(ex, "https://unknown.example/cb?code=not-an-authorization-response-of-ours");
                    return;
                }
                byte[] out = "hello".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, out.length);
                ex.getResponseBody().write(out);
            }
        }

        private static void redirect(HttpExchange ex, String location) throws IOException {
            ex.getResponseHeaders().set("Location", location);
            ex.sendResponseHeaders(302, -1);
        }

        @Override
        public void close() {
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }

    void start(String scopeYaml, String extraYaml) throws Exception {
        idp = idp == null ? new Idp() : idp;
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "%s", response-timeout: 5s}
                store: {type: embedded, path: "%s"}
                scope:
                %s
                %s
                """.formatted(idp.base(), dir.resolve("data").toString().replace("\\", "/"), scopeYaml, extraYaml));
        gateway = Gateway.start(file, name -> null, Duration.ofMillis(50));
        SeedScenariosTest.waitFor(() -> {
            try {
                return get(admin("/readyz")).statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
    }

    String proxy(String pathAndQuery) {
        return "http://127.0.0.1:" + gateway.proxyPort() + pathAndQuery;
    }

    String admin(String pathAndQuery) {
        return "http://127.0.0.1:" + gateway.adminPort() + pathAndQuery;
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

    String register(String scope) throws Exception {
        HttpResponse<String> r = post(proxy("/oauth/register"), "application/json",
                "{\"redirect_uris\":[\"" + CB + "\"],\"scope\":\"" + scope + "\"}");
        assertThat(r.statusCode()).isEqualTo(201);
        return dev.scopegate.testing.TestHttp.field(r.body(), "client_id");
    }

    HttpResponse<String> authorize(String clientId, String extra) throws Exception {
        return get(proxy("/oauth/authorize?response_type=code&client_id=" + clientId + "&redirect_uri=" + CB_ENC
                + "&state=st" + extra));
    }

    String lastScope() {
        return URLDecoder.decode(param(idp.authorizeQueries.get(idp.authorizeQueries.size() - 1), "scope"),
                StandardCharsets.UTF_8);
    }

    double metric(String line) throws Exception {
        for (String l : get(admin("/metrics")).body().split("\n")) {
            if (l.startsWith(line + " ")) {
                return Double.parseDouble(l.substring(line.length() + 1));
            }
        }
        return 0;
    }

    static String outcome(String source, String outcome, String error) {
        return "scopegate_rewrite_outcomes_total{error=\"" + error + "\",family=\"other\",outcome=\"" + outcome
                + "\",source=\"" + source + "\"}";
    }

    // ---- item 6 ----

    @Test
    void anInvalidScopeRejectionOfARegisteredScopeDemotesItForThatClientOnly() throws Exception {
        start("  sources: [registered, default]\n  default: a", "");
        String c1 = register("a b");
        String c2 = register("a b");
        idp.rejected.add("b");

        HttpResponse<String> first = authorize(c1, "");
        assertThat(lastScope()).isEqualTo("a b");
        assertThat(first.headers().firstValue("Location")).hasValue(CB + "?error=invalid_scope&state=st");
        assertThat(metric(outcome("registered", "rejected", "invalid_scope"))).isEqualTo(1);
        assertThat(metric("scopegate_scope_demotions_total{source=\"registered\"}")).isEqualTo(1);

        authorize(c1, "");
        assertThat(lastScope()).as("the next request falls through to the next source").isEqualTo("a");
        assertThat(metric(outcome("default", "accepted", "none"))).isEqualTo(1);
        String explain = get(admin("/admin/explain?client_id=" + c1 + "&redirect_uri=" + CB_ENC)).body();
        assertThat(explain).contains("DEMOTED");

        // another client with the very same registered scope is not affected
        idp.rejected.clear();
        authorize(c2, "");
        assertThat(lastScope()).isEqualTo("a b");
        assertThat(metric(outcome("registered", "accepted", "none"))).isEqualTo(1);
    }

    @Test
    void aRejectionRedirectedElsewhereIsCountedButDemotesNothing() throws Exception {
        start("  sources: [registered, default]\n  default: a", "");
        String c1 = register("a b");
        idp.rejected.add("b");
        idp.errorRedirect = "https://other.example/cb";
        authorize(c1, "");
        assertThat(metric(outcome("registered", "rejected", "invalid_scope"))).isEqualTo(1);
        assertThat(metric("scopegate_scope_demotions_total{source=\"registered\"}")).isEqualTo(0);
        authorize(c1, "");
        assertThat(lastScope()).isEqualTo("a b");
    }

    @Test
    void aParErrorBodyIsReadAndDemotes() throws Exception {
        start("  sources: [registered, default]\n  default: a", "");
        String c1 = register("a b");
        idp.rejected.add("b");
        String form = "response_type=code&client_id=" + c1 + "&redirect_uri=" + CB_ENC + "&state=st";
        HttpResponse<String> r = post(proxy("/oauth/par"), "application/x-www-form-urlencoded", form);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("invalid_scope"); // relayed unchanged
        assertThat(metric(outcome("registered", "rejected", "invalid_scope"))).isEqualTo(1);
        r = post(proxy("/oauth/par"), "application/x-www-form-urlencoded", form);
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(idp.parBodies.get(1)).isEqualTo(form + "&scope=a");
        assertThat(metric(outcome("default", "accepted", "none"))).isEqualTo(1);
    }

    @Test
    void aParWhoseResourceIsStrippedStillHasItsAnswerRead() throws Exception {
        start("  sources: [registered, default]\n  default: a", "compat: {resource-parameter: strip}");
        String c1 = register("a b");
        idp.rejected.add("b");
        String form = "response_type=code&client_id=" + c1 + "&redirect_uri=" + CB_ENC + "&state=st"
                + "&resource=https%3A%2F%2Fmcp.example%2Fmcp";
        HttpResponse<String> r = post(proxy("/oauth/par"), "application/x-www-form-urlencoded", form);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(idp.parBodies.get(0)).doesNotContain("resource=").contains("&scope=a%20b");
        assertThat(metric(outcome("registered", "rejected", "invalid_scope")))
                .as("the outcome tap survives the resource-parameter rewrite").isEqualTo(1);
        r = post(proxy("/oauth/par"), "application/x-www-form-urlencoded", form);
        assertThat(r.statusCode()).as("demoted: falls through to default").isEqualTo(201);
    }

    // ---- item 7 ----

    @Test
    void addAlwaysExtendsRequestsWithAndWithoutScopeByteForByte() throws Exception {
        start("  sources: [default]\n  default: a\n  add-always: [offline_access]", "");
        authorize("c1", "&scope=a+b");
        String q = idp.authorizeQueries.get(0);
        assertThat(q).isEqualTo("response_type=code&client_id=c1&redirect_uri=" + CB_ENC
                + "&state=st&scope=a+b%20offline_access&prompt=consent");
        authorize("c1", "");
        assertThat(lastScope()).isEqualTo("a offline_access");
        authorize("c1", "&scope=offline_access%20b");
        assertThat(idp.authorizeQueries.get(2)).endsWith("&state=st&scope=offline_access%20b");
        assertThat(metric("scopegate_rewrites_add_always_total{family=\"other\"}")).isEqualTo(1);
        assertThat(metric(outcome("add-always", "accepted", "none"))).isEqualTo(1);
    }

    @Test
    void withoutAddAlwaysARequestWithScopeIsUntouched() throws Exception {
        start("  sources: [default]\n  default: a", "");
        authorize("c1", "&scope=a+b");
        assertThat(idp.authorizeQueries.get(0)).endsWith("&state=st&scope=a+b");
    }

    // ---- item 4 ----

    @Test
    void addIssOnDirectAndResumedAuthorizationResponsesAndInMetadata() throws Exception {
        start("  sources: [default]\n  default: a", "compat: {add-iss: true}");
        String iss = "&iss=" + java.net.URLEncoder.encode(idp.base(), StandardCharsets.UTF_8);
        assertThat(authorize("c1", "").headers().firstValue("Location")).hasValue(CB + "?code=c0de&state=st" + iss);
        idp.rejected.add("a");
        assertThat(authorize("c1", "").headers().firstValue("Location"))
                .hasValue(CB + "?error=invalid_scope&state=st" + iss);
        idp.rejected.clear();

        idp.interaction = true;
        HttpResponse<String> toLogin = authorize("c1", "");
        String login = toLogin.headers().firstValue("Location").orElseThrow();
        assertThat(login).startsWith("/login/");
        assertThat(get(proxy(login)).headers().firstValue("Location"))
                .as("resumed on the IdP's login page").hasValue(CB + "?code=c0de&state=st" + iss);
        // a redirect with code= to a URI no authorization request named is not touched
        assertThat(get(proxy("/elsewhere")).headers().firstValue("Location"))
                .hasValue("https://unknown.example/cb?code=not-an-authorization-response-of-ours");
        // nor, at the authorization endpoint itself, an IdP's redirect to a page of its own
        idp.interaction = false;
        idp.errorRedirect = "https://broker.example/error";
        idp.rejected.add("a");
        assertThat(authorize("c1", "").headers().firstValue("Location"))
                .hasValue("https://broker.example/error?error=invalid_scope&state=st");
        idp.rejected.clear();
        idp.errorRedirect = null;

        String md = get(proxy("/.well-known/oauth-authorization-server")).body();
        assertThat(md).contains("\"authorization_response_iss_parameter_supported\":true");
        assertThat(metric("scopegate_iss_added_total")).isEqualTo(3);
    }

    @Test
    void withoutAddIssNothingChanges() throws Exception {
        start("  sources: [default]\n  default: a", "");
        assertThat(authorize("c1", "").headers().firstValue("Location")).hasValue(CB + "?code=c0de&state=st");
        String md = get(proxy("/.well-known/oauth-authorization-server")).body();
        assertThat(md).doesNotContain("authorization_response_iss_parameter_supported");
    }
}
