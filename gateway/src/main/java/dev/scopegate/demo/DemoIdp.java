package dev.scopegate.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small legacy OAuth 2.0 authorization server for {@code scopegate.jar demo}: it behaves like
 * the IdP of the seed scenarios, which refuses an authorization request without {@code scope}.
 * Not part of the product; it runs only in the demo, on loopback, with everything in memory.
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><td>{@code GET /.well-known/oauth-authorization-server}, {@code /.well-known/openid-configuration}</td>
 *       <td>RFC 8414 metadata naming the endpoints below and {@link #SCOPES_SUPPORTED}</td></tr>
 *   <tr><td>{@code POST /oauth/register}</td><td>RFC 7591: 201 with {@code client_id} {@code demo-client-N}
 *       (N counts from 1), a {@code client_secret}, and the request's {@code scope}, {@code redirect_uris}
 *       and {@code client_name} echoed</td></tr>
 *   <tr><td>{@code GET /oauth/authorize}</td><td>400 for an unknown {@code client_id} or a
 *       {@code redirect_uri} the client did not register; <b>400 {@code invalid_scope} without
 *       {@code scope}</b>; else 302 to {@code redirect_uri} with {@code code} and {@code state}. Every
 *       answer carries the scope it received in {@value #SCOPE_HEADER} and the raw query in
 *       {@value #QUERY_HEADER}, so that the demo shows what scopegate added</td></tr>
 *   <tr><td>{@code POST /oauth/token}</td><td>{@code authorization_code} grant (PKCE S256 checked when the
 *       authorization request had a challenge): 200 with a bearer token and the granted scope</td></tr>
 * </table>
 *
 * <p>Thread-safe; serves on its own threads until {@link #close()}.
 */
public final class DemoIdp implements AutoCloseable {

    /** Response header: the {@code scope} the authorization request arrived with (decoded), or {@code (none)}. */
    public static final String SCOPE_HEADER = "x-demo-idp-scope";
    /** Response header: the raw query string the authorization request arrived with. */
    public static final String QUERY_HEADER = "x-demo-idp-query";
    public static final List<String> SCOPES_SUPPORTED = List.of("files:read", "files:write", "offline_access");
    /** The prefix of the client ids it issues: {@code demo-client-1}, {@code demo-client-2}, … */
    public static final String CLIENT_ID_PREFIX = "demo-client-";

    private static final JsonMapper JSON = new JsonMapper();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final HttpServer server;
    private final ExecutorService threads;
    private final String issuer;
    private final AtomicInteger clients = new AtomicInteger();
    private final Map<String, Client> registered = new ConcurrentHashMap<>();
    private final Map<String, Grant> codes = new ConcurrentHashMap<>();

    private record Client(String clientId, List<String> redirectUris) {
    }

    private record Grant(String clientId, String redirectUri, String scope, String codeChallenge) {
    }

    private DemoIdp(HttpServer server) {
        this.server = server;
        this.threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "demo-idp");
            t.setDaemon(true);
            return t;
        });
        this.issuer = "http://127.0.0.1:" + server.getAddress().getPort();
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    /**
     * Starts on {@code 127.0.0.1:port} (0: a free port).
     *
     * @throws java.net.BindException when the port is taken
     */
    public static DemoIdp start(int port) throws IOException {
        return new DemoIdp(HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:PORT}: its issuer, and the origin of every endpoint. */
    public String issuer() {
        return issuer;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getRawPath();
            String method = ex.getRequestMethod();
            if (path.equals("/.well-known/oauth-authorization-server") || path.equals("/.well-known/openid-configuration")) {
                json(ex, 200, metadata());
            } else if (path.equals("/oauth/register") && method.equals("POST")) {
                register(ex);
            } else if (path.equals("/oauth/authorize") && method.equals("GET")) {
                authorize(ex);
            } else if (path.equals("/oauth/token") && method.equals("POST")) {
                token(ex);
            } else {
                json(ex, 404, error("not_found", "the demo IdP serves metadata, /oauth/register, /oauth/authorize"
                        + " and /oauth/token"));
            }
        } catch (RuntimeException e) {
            // a malformed request (bad percent-encoding, …): answer rather than reset the connection
            if (ex.getResponseCode() == -1) {
                json(ex, 400, error("invalid_request", "malformed request"));
            }
        } finally {
            ex.close();
        }
    }

    private ObjectNode metadata() {
        ObjectNode m = JSON.createObjectNode();
        m.put("issuer", issuer);
        m.put("authorization_endpoint", issuer + "/oauth/authorize");
        m.put("token_endpoint", issuer + "/oauth/token");
        m.put("registration_endpoint", issuer + "/oauth/register");
        SCOPES_SUPPORTED.forEach(m.putArray("scopes_supported")::add);
        m.putArray("response_types_supported").add("code");
        m.putArray("grant_types_supported").add("authorization_code");
        m.putArray("code_challenge_methods_supported").add("S256");
        m.putArray("token_endpoint_auth_methods_supported").add("client_secret_post").add("none");
        return m;
    }

    private void register(HttpExchange ex) throws IOException {
        JsonNode body;
        try {
            body = JSON.readTree(read(ex));
        } catch (IOException e) {
            body = null;
        }
        if (body == null || !body.isObject()) {
            json(ex, 400, error("invalid_client_metadata", "the body must be a JSON object"));
            return;
        }
        List<String> redirectUris = new ArrayList<>();
        body.path("redirect_uris").forEach(u -> redirectUris.add(u.asText()));
        if (redirectUris.isEmpty() || redirectUris.stream().anyMatch(String::isBlank)) {
            json(ex, 400, error("invalid_redirect_uri", "redirect_uris must list at least one URI"));
            return;
        }
        String clientId = CLIENT_ID_PREFIX + clients.incrementAndGet();
        registered.put(clientId, new Client(clientId, List.copyOf(redirectUris)));
        ObjectNode out = JSON.createObjectNode();
        out.put("client_id", clientId);
        out.put("client_secret", randomToken());
        out.put("client_id_issued_at", System.currentTimeMillis() / 1000);
        out.put("client_secret_expires_at", 0);
        ArrayNode uris = out.putArray("redirect_uris");
        redirectUris.forEach(uris::add);
        for (String echoed : new String[]{"client_name", "scope", "grant_types", "token_endpoint_auth_method"}) {
            if (body.has(echoed)) {
                out.set(echoed, body.get(echoed));
            }
        }
        json(ex, 201, out);
    }

    private void authorize(HttpExchange ex) throws IOException {
        String query = ex.getRequestURI().getRawQuery() == null ? "" : ex.getRequestURI().getRawQuery();
        Map<String, String> p = form(query);
        String scope = p.get("scope");
        ex.getResponseHeaders().set(SCOPE_HEADER, scope == null || scope.isBlank() ? "(none)" : scope);
        ex.getResponseHeaders().set(QUERY_HEADER, query);
        Client client = p.get("client_id") == null ? null : registered.get(p.get("client_id"));
        if (client == null) {
            json(ex, 400, error("invalid_request", "unknown client_id (register the client first)"));
            return;
        }
        String redirectUri = p.get("redirect_uri");
        if (redirectUri == null && client.redirectUris().size() == 1) {
            redirectUri = client.redirectUris().get(0);
        }
        if (redirectUri == null || !client.redirectUris().contains(redirectUri)) {
            json(ex, 400, error("invalid_request", "redirect_uri is not registered for this client"));
            return;
        }
        if (scope == null || scope.isBlank()) {
            // The legacy behaviour scopegate exists for: no default scope (RFC 6749 §3.3 allows one).
            json(ex, 400, error("invalid_scope", "scope is required: this IdP has no default scope"));
            return;
        }
        String code = randomToken();
        codes.put(code, new Grant(client.clientId(), redirectUri, scope, p.get("code_challenge")));
        StringBuilder location = new StringBuilder(redirectUri)
                .append(redirectUri.indexOf('?') < 0 ? '?' : '&').append("code=").append(code);
        String rawState = rawParam(query, "state");
        if (rawState != null) {
            location.append("&state=").append(rawState);
        }
        ex.getResponseHeaders().set("Location", location.toString());
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(302, -1);
    }

    private void token(HttpExchange ex) throws IOException {
        Map<String, String> p = form(new String(read(ex), StandardCharsets.UTF_8));
        if (!"authorization_code".equals(p.get("grant_type"))) {
            json(ex, 400, error("unsupported_grant_type", "only authorization_code"));
            return;
        }
        Grant grant = p.get("code") == null ? null : codes.remove(p.get("code"));
        if (grant == null || !grant.clientId().equals(p.get("client_id"))
                || !grant.redirectUri().equals(p.getOrDefault("redirect_uri", grant.redirectUri()))
                || (grant.codeChallenge() != null && !s256(p.get("code_verifier")).equals(grant.codeChallenge()))) {
            json(ex, 400, error("invalid_grant", "unknown or used code, or a client, redirect_uri or code_verifier"
                    + " that does not match it"));
            return;
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("access_token", randomToken());
        out.put("token_type", "Bearer");
        out.put("expires_in", 3600);
        out.put("scope", grant.scope());
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        json(ex, 200, out);
    }

    private static String s256(String verifier) {
        if (verifier == null) {
            return "";
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode error(String code, String description) {
        ObjectNode e = JSON.createObjectNode();
        e.put("error", code);
        e.put("error_description", description);
        return e;
    }

    private static void json(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** At most 64 KiB of request body: a demo has no use for more. */
    private static byte[] read(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            return in.readNBytes(64 * 1024);
        }
    }

    /** Form or query parameters, decoded; the first of a repeated name wins. */
    static Map<String, String> form(String raw) {
        Map<String, String> params = new HashMap<>();
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.putIfAbsent(name, value);
        }
        return params;
    }

    /** The still-encoded value of {@code name}, to return {@code state} exactly as it came. */
    private static String rawParam(String raw, String name) {
        for (String pair : raw.split("&")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return null;
    }

    private static String randomToken() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public String toString() {
        return "DemoIdp[" + issuer + ", clients=" + clients.get() + "]";
    }
}
