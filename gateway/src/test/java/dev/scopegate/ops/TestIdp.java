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
    private final /* nullable */ javax.net.ssl.SSLContext tls;
    private final boolean needClientAuth;
    private HttpServer server; // null while stopped; guarded by this
    private ExecutorService executor; // guarded by this
    public final List<String> authorizeQueries = new CopyOnWriteArrayList<>();
    /** Over https: {@code path subject} of each request, the subject of the client certificate or {@code -}. */
    public final List<String> clientCertificates = new CopyOnWriteArrayList<>();

    public TestIdp() throws IOException {
        this(null, false);
    }

    /**
     * An https IdP when {@code tls} is set (its key managers give the server certificate, its trust
     * managers judge client certificates); {@code needClientAuth}: handshakes without a client
     * certificate that trust accepts fail (mTLS).
     */
    public TestIdp(/* nullable */ javax.net.ssl.SSLContext tls, boolean needClientAuth) throws IOException {
        this.tls = tls;
        this.needClientAuth = needClientAuth;
        listen(0);
        port = server.getAddress().getPort();
    }

    private void listen(int onPort) throws IOException {
        HttpServer s;
        if (tls == null) {
            s = HttpServer.create(new InetSocketAddress("127.0.0.1", onPort), 64);
        } else {
            com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(
                    new InetSocketAddress("127.0.0.1", onPort), 64);
            https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls) {
                @Override
                public void configure(com.sun.net.httpserver.HttpsParameters params) {
                    javax.net.ssl.SSLParameters p = tls.getDefaultSSLParameters();
                    p.setNeedClientAuth(needClientAuth);
                    params.setSSLParameters(p);
                }
            });
            s = https;
        }
        ExecutorService e = Executors.newFixedThreadPool(4);
        s.setExecutor(e);
        s.createContext("/", this::handle);
        s.start();
        server = s;
        executor = e;
    }

    public String base() {
        return (tls == null ? "http" : "https") + "://127.0.0.1:" + port;
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
            if (ex instanceof com.sun.net.httpserver.HttpsExchange https) {
                String subject;
                try {
                    subject = ((java.security.cert.X509Certificate) https.getSSLSession().getPeerCertificates()[0])
                            .getSubjectX500Principal().getName();
                } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                    subject = "-";
                }
                clientCertificates.add(path + " " + subject);
            }
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
