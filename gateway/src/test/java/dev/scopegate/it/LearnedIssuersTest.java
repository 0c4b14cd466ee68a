package dev.scopegate.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.scopegate.Gateway;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code metadata.issuers} end to end: a real gateway in front of a Keycloak-like IdP on a real
 * socket that hosts realms under {@code /realms/<name>} (each with its own {@code scopes_supported}),
 * configured for realm {@code main} by {@code public-base-url}. Realm {@code evil} names an issuer
 * at another origin. Scope source {@code server}: an authorization request without scope gets its
 * realm's {@code scopes_supported}.
 */
class LearnedIssuersTest {

    static final String PUBLIC = "https://gw.example";
    static final Map<String, String> REALM_SCOPES = Map.of("main", "openid main:x", "a", "openid a:read",
            "b", "openid b:write", "evil", "openid evil:all");
    static final Pattern REALM = Pattern.compile("^/realms/([a-z]+)(/.*)$");
    static final String QUERY = "response_type=code&client_id=c1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s";

    @TempDir
    Path dir;
    HttpServer idp;
    Gateway gateway;
    /** Every request the IdP received: method path?query and the Host it was sent with. */
    final List<String> received = new CopyOnWriteArrayList<>();
    /** Discovery requests scopegate made itself (Host: the public origin's), per path. */
    final Map<String, Integer> probes = new ConcurrentHashMap<>();
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void startIdp() throws IOException {
        idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        idp.setExecutor(Executors.newFixedThreadPool(4));
        idp.createContext("/", this::handle);
        idp.start();
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        idp.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String query = ex.getRequestURI().getRawQuery();
            String host = ex.getRequestHeaders().getFirst("Host");
            received.add(ex.getRequestMethod() + " " + path + (query == null ? "" : "?" + query) + " host=" + host);
            Matcher m = REALM.matcher(path);
            if (!m.matches() || !REALM_SCOPES.containsKey(m.group(1))) {
                reply(ex, 404, "{\"error\":\"not found\"}");
                return;
            }
            String realm = m.group(1);
            if (m.group(2).equals("/.well-known/openid-configuration")) {
                if ("gw.example".equals(host)) {
                    probes.merge(path, 1, Integer::sum);
                }
                String proto = ex.getRequestHeaders().getFirst("X-Forwarded-Proto");
                String fwdHost = ex.getRequestHeaders().getFirst("X-Forwarded-Host");
                String origin = realm.equals("evil") ? "https://evil.example"
                        : (proto != null && fwdHost != null ? proto + "://" + fwdHost : "http://" + host);
                String issuer = origin + "/realms/" + realm;
                String scopes = String.join("\",\"", REALM_SCOPES.get(realm).split(" "));
                reply(ex, 200, "{\"issuer\":\"" + issuer + "\",\"authorization_endpoint\":\"" + issuer
                        + "/protocol/openid-connect/auth\",\"token_endpoint\":\"" + issuer
                        + "/protocol/openid-connect/token\",\"registration_endpoint\":\"" + issuer
                        + "/clients-registrations/openid-connect\",\"scopes_supported\":[\"" + scopes + "\"]}");
                return;
            }
            reply(ex, 200, "{\"realm\":\"" + realm + "\"}");
        }
    }

    private static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    void start(String issuers) throws Exception {
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                public-base-url: "%s/realms/main"
                upstream: {url: "http://127.0.0.1:%d", response-timeout: 5s}
                store: {type: embedded, path: "%s"}
                scope: {sources: [server]}
                %s
                """.formatted(PUBLIC, idp.getAddress().getPort(), dir.resolve("data").toString().replace("\\", "/"),
                issuers == null ? "" : "metadata: {issuers: " + issuers + "}"));
        gateway = Gateway.start(file, name -> null, Duration.ofMillis(50));
        SeedScenariosTest.waitFor(() -> {
            try {
                return get(admin("/readyz")).statusCode() == 200;
            } catch (Exception e) {
                return false;
            }
        });
    }

    String proxy(String path) {
        return "http://127.0.0.1:" + gateway.proxyPort() + path;
    }

    String admin(String path) {
        return "http://127.0.0.1:" + gateway.adminPort() + path;
    }

    HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** What the IdP received for an authorization request without scope to {@code realm}, sent through scopegate. */
    String authorize(String realm) throws Exception {
        String path = "/realms/" + realm + "/protocol/openid-connect/auth";
        assertThat(get(proxy(path + "?" + QUERY)).statusCode()).isEqualTo(200);
        String line = received.get(received.size() - 1);
        assertThat(line).startsWith("GET " + path + "?");
        return line.substring(("GET " + path + "?").length(), line.indexOf(" host="));
    }

    static String added(String realm) {
        return QUERY + "&scope=" + REALM_SCOPES.get(realm).replace(" ", "%20").replace(":", "%3A");
    }

    String metric(String name) throws Exception {
        return get(admin("/metrics")).body().lines().filter(l -> l.startsWith(name)).toList().toString();
    }

    @Test
    void theFirstDiscoveryLearnsARealm_whoseEndpointsThenGetTheirOwnScope() throws Exception {
        start("{learn: true}");
        assertThat(authorize("main")).isEqualTo(added("main"));
        // realm a is not known yet: its authorization endpoint is any path, forwarded untouched
        assertThat(authorize("a")).isEqualTo(QUERY);

        for (String form : List.of("/.well-known/openid-configuration/realms/a", "/realms/a/.well-known/openid-configuration")) {
            HttpResponse<String> md = get(proxy(form));
            assertThat(md.statusCode()).as(form).isEqualTo(200);
            assertThat(md.body()).contains("\"issuer\":\"https://gw.example/realms/a\"").contains("a:read");
        }
        assertThat(probes).containsEntry("/realms/a/.well-known/openid-configuration", 1);
        assertThat(authorize("a")).isEqualTo(added("a"));

        // the RFC 8414 form: the IdP serves no OAuth document, so that one is the IdP's own 404; realm b is learned
        assertThat(get(proxy("/.well-known/oauth-authorization-server/realms/b")).statusCode()).isEqualTo(404);
        assertThat(authorize("b")).isEqualTo(added("b"));
        assertThat(authorize("a")).isEqualTo(added("a"));
        assertThat(authorize("main")).isEqualTo(added("main"));
        assertThat(metric("scopegate_metadata_issuers_learned")).contains(" 2.0");
        assertThat(metric("scopegate_metadata_issuer_discoveries_total")).contains("outcome=\"learned\"} 2.0");
        // learned once: no further probe however often asked
        for (int i = 0; i < 5; i++) {
            get(proxy("/.well-known/openid-configuration/realms/a"));
        }
        assertThat(probes).containsEntry("/realms/a/.well-known/openid-configuration", 1);
    }

    @Test
    void aRealmNamingAnotherIssuerIsNotLearned_itsDiscoveryIsForwardedAndNotProbedAgain() throws Exception {
        start("{learn: true, negative-ttl: 1h}");
        HttpResponse<String> md = get(proxy("/realms/evil/.well-known/openid-configuration"));
        // the IdP's own answer to the client's request (forwarded), not served from scopegate's cache
        assertThat(md.statusCode()).isEqualTo(200);
        assertThat(md.body()).contains("https://evil.example/realms/evil");
        assertThat(received.get(received.size() - 1)).endsWith("host=127.0.0.1:" + gateway.proxyPort());
        assertThat(probes).containsEntry("/realms/evil/.well-known/openid-configuration", 1);
        assertThat(authorize("evil")).isEqualTo(QUERY);
        for (int i = 0; i < 5; i++) {
            // forwarded: the IdP itself serves no document at the RFC 8414 inserted form
            assertThat(get(proxy("/.well-known/openid-configuration/realms/evil")).statusCode()).isEqualTo(404);
            assertThat(get(proxy("/realms/evil/.well-known/openid-configuration")).statusCode()).isEqualTo(200);
        }
        assertThat(probes).containsEntry("/realms/evil/.well-known/openid-configuration", 1);
        assertThat(metric("scopegate_metadata_issuer_discoveries_total")).contains("outcome=\"mismatch\"} 1.0");
        assertThat(metric("scopegate_metadata_issuers_learned")).contains(" 0.0");
    }

    @Test
    void offByDefault_discoveryForAnotherRealmIsForwardedAsBefore() throws Exception {
        start(null);
        HttpResponse<String> md = get(proxy("/realms/a/.well-known/openid-configuration"));
        assertThat(md.statusCode()).isEqualTo(200);
        assertThat(received.get(received.size() - 1)).as("forwarded: the client's request itself")
                .isEqualTo("GET /realms/a/.well-known/openid-configuration host=127.0.0.1:" + gateway.proxyPort());
        assertThat(probes).doesNotContainKey("/realms/a/.well-known/openid-configuration");
        assertThat(authorize("a")).isEqualTo(QUERY);
        assertThat(metric("scopegate_metadata_issuer")).isEqualTo("[]");
    }

    @Test
    void theCapBoundsLearnedRealms_andMalformedOrRandomPathsCostAtMostOneProbeEach() throws Exception {
        start("{learn: true, max: 1}");
        assertThat(get(proxy("/realms/a/.well-known/openid-configuration")).body()).contains("https://gw.example/realms/a");
        assertThat(authorize("a")).isEqualTo(added("a"));
        assertThat(get(proxy("/realms/b/.well-known/openid-configuration")).statusCode()).isEqualTo(200);
        assertThat(probes).doesNotContainKey("/realms/b/.well-known/openid-configuration");
        assertThat(authorize("b")).isEqualTo(QUERY);

        // a flood of random issuer paths: each probed at most once per negative-ttl
        int before = received.size();
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 50; i++) {
                get(proxy("/.well-known/openid-configuration/tenants/t" + i));
            }
        }
        long probed = received.subList(before, received.size()).stream().filter(l -> l.endsWith("host=gw.example")).count();
        assertThat(probed).as("the cap is reached: nothing probed").isZero();
        assertThat(metric("scopegate_metadata_issuer_discoveries_total")).contains("outcome=\"full\"} 101.0");
        // a malformed path: no probe either, the IdP answers it
        get(proxy("/.well-known/openid-configuration/realms/..%2Fadmin"));
        assertThat(metric("scopegate_metadata_issuer_discoveries_total")).contains("outcome=\"invalid\"} 1.0");
    }

    @Test
    void aFloodOfRandomIssuerPathsIsProbedOncePerPath() throws Exception {
        start("{learn: true}");
        int before = received.size();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 40; i++) {
                assertThat(get(proxy("/.well-known/openid-configuration/tenants/t" + i)).statusCode()).isEqualTo(404);
            }
        }
        List<String> probed = received.subList(before, received.size()).stream()
                .filter(l -> l.endsWith("host=gw.example")).toList();
        // three locations per path, once: nothing at any of them
        assertThat(probed).hasSize(3 * 40);
        assertThat(metric("scopegate_metadata_issuer_discoveries_total")).contains("outcome=\"not-found\"} 40.0");
    }
}
