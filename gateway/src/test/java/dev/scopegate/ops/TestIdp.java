package dev.scopegate.ops;

import static dev.scopegate.testing.TestHttp.json;
import static dev.scopegate.testing.TestHttp.field;
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
 * A legacy IdP on a real loopback socket for the ops tests: RFC 8414 metadata, RFC 7591
 * registration (answering with a secret, as real IdPs do), an authorization endpoint that rejects
 * requests without {@code scope} (400) and redirects the others (302), {@code /boom} answering
 * 500, and 200 for any other path. Records every authorization query. {@link #stop()} and
 * {@link #start()} take it down and bring it back on the same port, as an IdP restart does.
 * Thread-safe.
 */
public final class TestIdp implements AutoCloseable {

    public static final String SECRET_PREFIX = "s3cr3t-";

    private final int port;
    private HttpServer server; // null while stopped; guarded by this
    private ExecutorService executor; // guarded by this
    public final List<String> authorizeQueries = new CopyOnWriteArrayList<>();

    public TestIdp() throws IOException {
        listen(0);
        port = server.getAddress().getPort();
    }

    private void listen(int onPort) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", onPort), 64);
        ExecutorService e = Executors.newFixedThreadPool(4);
        s.setExecutor(e);
        s.createContext("/", this::handle);
        s.start();
        server = s;
        executor = e;
    }

    public String base() {
        return "http://127.0.0.1:" + port;
    }

    /**
     * Closes the listener and every open connection (idle keep-alive ones and those of exchanges in
     * flight) at once, as a crashed or restarting IdP does. No-op when stopped.
     */
    public synchronized void stop() {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
        }
    }

    /** Listens again on the same port after {@link #stop()}; no-op when running. */
    public synchronized void start() throws IOException {
        if (server == null) {
            listen(port);
        }
    }

    /** The last authorization query received, or "" before any. */
    public String lastAuthorizeQuery() {
        return authorizeQueries.isEmpty() ? "" : authorizeQueries.get(authorizeQueries.size() - 1);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String query = ex.getRequestURI().getRawQuery();
            byte[] body = ex.getRequestBody().readAllBytes();
            if (path.startsWith("/.well-known/oauth-authorization-server")) {
                json(ex, 200, """
                        {"issuer":"%1$s","authorization_endpoint":"%1$s/oauth/authorize","token_endpoint":"%1$s/oauth/token",
                         "registration_endpoint":"%1$s/oauth/register",
                         "scopes_supported":["worker:read","people:read","contracts:read","time-off:read"],
                         "response_types_supported":["code"],"code_challenge_methods_supported":["S256"]}
                        """.formatted(base()));
                return;
            }
            switch (path) {
                case "/oauth/register" -> {
                    String id = UUID.randomUUID().toString();
                    String req = new String(body, StandardCharsets.UTF_8);
                    String scope = field(req, "scope");
                    json(ex, 201, """
                            {"client_id":"%s","client_secret":"%s%s","registration_access_token":"rat-%s",
                             "redirect_uris":["https://chatgpt.com/connector_platform_oauth_redirect"]%s,
                             "grant_types":["authorization_code"],"token_endpoint_auth_method":"client_secret_basic"}
                            """.formatted(id, SECRET_PREFIX, id, id, scope == null ? "" : ",\"scope\":\"" + scope + "\""));
                }
                case "/oauth/authorize" -> {
                    authorizeQueries.add(query == null ? "" : query);
                    String scope = param(query, "scope");
                    if (scope == null || scope.isBlank()) {
                        json(ex, 400, "{\"error\":\"invalid_request\",\"error_description\":\"scope is required\"}");
                        return;
                    }
                    ex.getResponseHeaders().set("Location", param(query, "redirect_uri") + "?code=c0de-" + UUID.randomUUID()
                            + "&state=" + param(query, "state"));
                    ex.sendResponseHeaders(302, -1);
                }
                case "/oauth/token" -> json(ex, 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":60}");
                case "/boom" -> json(ex, 500, "{\"error\":\"server_error\"}");
                default -> {
                    byte[] out = ("hello from " + path).getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(200, out.length);
                    ex.getResponseBody().write(out);
                }
            }
        }
    }

    @Override
    public void close() {
        stop();
    }
}
