package dev.scopegate.it;

import static dev.scopegate.testing.TestHttp.json;
import static dev.scopegate.testing.TestHttp.field;
import static dev.scopegate.testing.TestHttp.param;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A legacy authorization server for tests, on a real socket: RFC 8414 metadata, RFC 7591
 * registration (with a secret and a registration access token in its answer), RFC 7592
 * management, PAR, and an authorization endpoint that — like the seed's IdP — rejects a request
 * without {@code scope} (400 JSON, no redirect). It records every authorization query it receives.
 */
final class IdpStandIn implements AutoCloseable {

    static final String SEED_SCOPE = "worker:read time-off:read time-off:write contracts:read people:read";

    private final HttpServer server;
    final List<String> authorizeQueries = new CopyOnWriteArrayList<>();
    final List<String> parBodies = new CopyOnWriteArrayList<>();
    final Map<String, String> registrationsById = new ConcurrentHashMap<>();
    final AtomicInteger metadataRequests = new AtomicInteger();
    volatile String issuerPath = "";
    /** The public base the metadata names (as built from the forwarded headers). */
    volatile String lastForwardedHost;
    /** The scope the token endpoint reports, or null to leave it out. */
    volatile String tokenScope;
    /** {@code /slow} waits for this before it answers (a slow request in flight). */
    volatile java.util.concurrent.CountDownLatch slowGate = new java.util.concurrent.CountDownLatch(0);
    final AtomicInteger slowRequests = new AtomicInteger();
    /** Metadata requests wait for this before they are answered (a slow IdP at start). */
    volatile java.util.concurrent.CountDownLatch metadataGate = new java.util.concurrent.CountDownLatch(0);

    IdpStandIn() throws IOException {
        this(0);
    }

    IdpStandIn(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    String base() {
        return "http://127.0.0.1:" + port();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String query = ex.getRequestURI().getRawQuery();
            byte[] body = ex.getRequestBody().readAllBytes();
            String host = ex.getRequestHeaders().getFirst("X-Forwarded-Host");
            String proto = ex.getRequestHeaders().getFirst("X-Forwarded-Proto");
            String issuer = (proto != null && host != null ? proto + "://" + host : base()) + issuerPath;
            if (path.startsWith("/.well-known/oauth-authorization-server")) {
                metadataRequests.incrementAndGet();
                try {
                    metadataGate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                lastForwardedHost = host;
                json(ex, 200, """
                        {"issuer":"%1$s","authorization_endpoint":"%1$s/oauth/authorize","token_endpoint":"%1$s/oauth/token",
                         "registration_endpoint":"%1$s/oauth/register","pushed_authorization_request_endpoint":"%1$s/oauth/par",
                         "scopes_supported":["worker:read","time-off:read","time-off:write","contracts:read","people:read","offline_access"],
                         "response_types_supported":["code"],"code_challenge_methods_supported":["S256"]}
                        """.formatted(issuer));
                return;
            }
            switch (path) {
                case "/oauth/register" -> {
                    String id = UUID.randomUUID().toString();
                    String req = new String(body, StandardCharsets.UTF_8);
                    String scope = field(req, "scope");
                    String redirect = req.contains("redirect_uris") ? req.substring(req.indexOf('[') + 1, req.indexOf(']')) : "";
                    registrationsById.put(id, req);
                    json(ex, 201, """
                            {"client_id":"%s","client_secret":"s3cr3t-%s","registration_access_token":"rat-%s",
                             "registration_client_uri":"%s/oauth/register/%s","redirect_uris":[%s]%s,
                             "grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"client_secret_basic"}
                            """.formatted(id, id, id, issuer, id, redirect, scope == null ? "" : ",\"scope\":\"" + scope + "\""));
                }
                case "/oauth/authorize" -> {
                    String q = "GET".equals(ex.getRequestMethod()) ? query : new String(body, StandardCharsets.ISO_8859_1);
                    authorizeQueries.add(q == null ? "" : q);
                    String scope = param(q, "scope");
                    if (scope == null || scope.isBlank()) {
                        json(ex, 400, "{\"error\":\"invalid_request\",\"error_description\":\"scope is required\"}");
                        return;
                    }
                    String redirect = param(q, "redirect_uri");
                    String state = param(q, "state");
                    ex.getResponseHeaders().set("Location", redirect + "?code=c0de&state=" + state);
                    ex.sendResponseHeaders(302, -1);
                }
                case "/oauth/par" -> {
                    String form = new String(body, StandardCharsets.ISO_8859_1);
                    parBodies.add(form);
                    String scope = param(form, "scope");
                    if (scope == null || scope.isBlank()) {
                        json(ex, 400, "{\"error\":\"invalid_request\",\"error_description\":\"scope is required\"}");
                        return;
                    }
                    json(ex, 201, "{\"request_uri\":\"urn:ietf:params:oauth:request_uri:abc\",\"expires_in\":60}");
                }
                case "/oauth/token" -> {
                    // like many legacy IdPs: no scope in the answer when it is what was requested
                    String grantedScope = tokenScope;
                    json(ex, 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":3600"
                            + (grantedScope == null ? "" : ",\"scope\":\"" + grantedScope + "\"") + "}");
                }
                case "/slow" -> {
                    slowRequests.incrementAndGet();
                    try {
                        slowGate.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    byte[] out = "slow and done".getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(200, out.length);
                    ex.getResponseBody().write(out);
                }
                default -> {
                    if (path.startsWith("/oauth/register/")) {
                        String id = path.substring("/oauth/register/".length());
                        if ("DELETE".equals(ex.getRequestMethod())) {
                            registrationsById.remove(id);
                            ex.sendResponseHeaders(204, -1);
                            return;
                        }
                        String req = "PUT".equals(ex.getRequestMethod()) ? new String(body, StandardCharsets.UTF_8)
                                : registrationsById.getOrDefault(id, "{}");
                        String scope = field(req, "scope");
                        json(ex, 200, "{\"client_id\":\"%s\"%s,\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"]}"
                                .formatted(id, scope == null ? "" : ",\"scope\":\"" + scope + "\""));
                        return;
                    }
                    byte[] out = ("hello from " + path).getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(200, out.length);
                    ex.getResponseBody().write(out);
                }
            }
        }
    }




    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
