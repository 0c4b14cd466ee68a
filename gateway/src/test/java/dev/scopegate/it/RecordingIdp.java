package dev.scopegate.it;

import static dev.scopegate.testing.TestHttp.field;
import static dev.scopegate.testing.TestHttp.json;
import static dev.scopegate.testing.TestHttp.param;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An IdP stand-in that records the exact bytes it receives at its OAuth endpoints (query or body,
 * and the {@code Content-Length} it was sent), for the compat tests. Its metadata (served at both
 * well-known paths) advertises PKCE or not, like Cognito and Entra, which omit it. Authorization
 * requests are redirected to their {@code redirect_uri}; PAR, token and registration answer
 * JSON, the registration echoing the request's {@code scope}. Thread-safe.
 */
final class RecordingIdp implements AutoCloseable {

    /** One request as received: method, path, raw query (or null), raw body, Content-Length header. */
    record Received(String method, String path, String query, byte[] body, String contentLength) {
        String bodyText() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    /** The metadata's {@code code_challenge_methods_supported} JSON, or null to leave it out. */
    private final String pkceMethods;
    final List<Received> received = new CopyOnWriteArrayList<>();

    RecordingIdp(/* nullable */ String pkceMethods) throws IOException {
        this.pkceMethods = pkceMethods;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The metadata document exactly as this IdP serves it. */
    String metadata() {
        return """
                {"issuer":"%1$s",
                 "authorization_endpoint":"%1$s/oauth/authorize","token_endpoint":"%1$s/oauth/token",
                 "registration_endpoint":"%1$s/oauth/register","pushed_authorization_request_endpoint":"%1$s/oauth/par",
                 "scopes_supported":["openid","files:read","files:write","offline_access"],
                 "response_types_supported":["code"]%2$s}
                """.formatted(base(), pkceMethods == null ? "" : ",\"code_challenge_methods_supported\":" + pkceMethods);
    }

    /** The last request received at {@code path}. */
    Received last(String path) {
        for (int i = received.size() - 1; i >= 0; i--) {
            if (received.get(i).path().equals(path)) {
                return received.get(i);
            }
        }
        throw new AssertionError("nothing received at " + path);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String query = ex.getRequestURI().getRawQuery();
            byte[] body = ex.getRequestBody().readAllBytes();
            if (path.startsWith("/.well-known/")) {
                json(ex, 200, metadata());
                return;
            }
            received.add(new Received(ex.getRequestMethod(), path, query, body,
                    ex.getRequestHeaders().getFirst("Content-Length")));
            String form = new String(body, StandardCharsets.ISO_8859_1);
            switch (path) {
                case "/oauth/authorize" -> {
                    String params = "GET".equals(ex.getRequestMethod()) ? query : form;
                    ex.getResponseHeaders().set("Location", param(params, "redirect_uri") + "?code=c0de&state="
                            + param(params, "state"));
                    ex.sendResponseHeaders(302, -1);
                }
                case "/oauth/par" -> json(ex, 201, "{\"request_uri\":\"urn:ietf:params:oauth:request_uri:1\",\"expires_in\":60}");
                case "/oauth/token" -> json(ex, 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":60}");
                case "/oauth/register" -> {
                    String scope = field(new String(body, StandardCharsets.UTF_8), "scope");
                    json(ex, 201, "{\"client_id\":\"" + UUID.randomUUID() + "\",\"redirect_uris\":"
                            + "[\"https://chatgpt.com/connector_platform_oauth_redirect\"]"
                            + (scope == null ? "" : ",\"scope\":\"" + scope + "\"") + "}");
                }
                default -> json(ex, 404, "{}");
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
