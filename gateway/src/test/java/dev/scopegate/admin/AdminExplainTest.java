package dev.scopegate.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.metrics.MetricsRegistry;
import dev.scopegate.oauth.HttpFetcher;
import dev.scopegate.model.Registration;
import dev.scopegate.oauth.ScopeNormalizer;
import dev.scopegate.oauth.document.ClientIdMetadataDocuments;
import dev.scopegate.oauth.document.ResourceMetadataCache;
import dev.scopegate.oauth.metadata.ServerMetadata;
import dev.scopegate.oauth.scope.ScopeResolver;
import dev.scopegate.proxy.Transport;
import dev.scopegate.store.RegistrationRepository;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /admin/explain} and {@code /admin/clients/{id}} on a real admin listener, with each
 * source of the chain winning in turn: every source's candidate, the policy's cuts, the winner.
 * The IdP metadata and the client ID metadata document come from in-memory fakes.
 */
class AdminExplainTest {

    static final String DOC_CLIENT = "https://client.example/oauth/metadata.json";
    static final String SUPPORTED = """
            {"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/authorize",
             "scopes_supported":["worker:read","people:read","contracts:read","doc:read","mcp:tools",
                                 "fallback:read","admin:all"]}""";
    static final String DOCUMENT = """
            {"client_id":"%s","client_name":"Doc client","redirect_uris":["https://client.example/cb"],
             "token_endpoint_auth_method":"none","scope":"doc:read"}""".formatted(DOC_CLIENT);

    final ObjectMapper json = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    final AtomicReference<ScopegateConfig> config = new AtomicReference<>();
    final MemoryStore store = new MemoryStore();
    ExecutorService executor;
    Transport transport;
    MetricsRegistry metrics;
    AdminServer admin;

    static ScopegateConfig config(String sources) throws Exception {
        return new ConfigLoader(name -> null).parse("""
                scope:
                  sources: %s
                  default: "fallback:read"
                  deny: ["admin:*"]
                  clients: {"configured-client": "worker:read admin:all"}
                  families: [{name: chatgpt, redirect-hosts: [chatgpt.com]}]
                resources:
                  - {resource: "https://mcp.example/mcp", scopes-supported: ["mcp:tools"]}
                """.formatted(sources), "test.yaml");
    }

    @BeforeEach
    void start() throws Exception {
        config.set(config("[client, registered, learned, document, resource, server, default]"));
        executor = Executors.newCachedThreadPool();
        transport = Transport.create(1, false);
        metrics = MetricsRegistry.create();
        RegistrationRepository registrations = new RegistrationRepository(store, 1000, Duration.ofDays(1),
                Ticker.systemTicker(), executor, Clock.systemUTC());
        HttpFetcher fetcher = (uri, headers, maxBytes, timeout) -> CompletableFuture.completedFuture(
                uri.toString().equals(DOC_CLIENT)
                        ? new HttpFetcher.Response(200, Map.of("content-type", List.of("application/json"),
                                "cache-control", List.of("max-age=300")), DOCUMENT.getBytes(StandardCharsets.UTF_8))
                        : new HttpFetcher.Response(404, Map.of(), new byte[0]));
        ScopegateConfig c = config.get();
        ResourceMetadataCache resources = new ResourceMetadataCache(c.resources(), Set.of(), fetcher, System::nanoTime);
        ClientIdMetadataDocuments documents = new ClientIdMetadataDocuments(c.scope().document(), fetcher,
                host -> new InetAddress[]{InetAddress.getByAddress(host, new byte[]{93, (byte) 184, (byte) 216, 34})},
                executor, System::nanoTime);
        ServerMetadata server = ServerMetadata.parse(SUPPORTED.getBytes(StandardCharsets.UTF_8));
        ScopeNormalizer normalizer = new ScopeNormalizer(() -> new ScopeResolver(config.get().scope()), registrations,
                () -> server, resources, documents);
        admin = new AdminServer(transport, "127.0.0.1", 0, config::get, metrics.registry(),
                new AdminServer.Readiness(() -> true, () -> CompletableFuture.completedFuture(null)),
                registrations, normalizer).start();

        Instant now = Instant.parse("2025-01-01T00:00:00Z");
        store.put(new Registration("registered-client", "people:read admin:all", List.of("https://chatgpt.com/cb"),
                List.of("authorization_code"), "ChatGPT", null, null, now, now));
        store.put(Registration.learnedOnly("learned-client", "contracts:read", now));
    }

    @AfterEach
    void stop() {
        if (admin != null) {
            admin.close();
        }
        transport.close();
        metrics.close();
        executor.shutdownNow();
    }

    JsonNode get(String pathAndQuery, int expectedStatus) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expectedStatus);
        return r.headers().firstValue("content-type").orElse("").startsWith("application/json") ? json.readTree(r.body()) : null;
    }

    JsonNode explain(String clientId, String... extra) throws Exception {
        StringBuilder q = new StringBuilder("/admin/explain?client_id=").append(enc(clientId));
        for (int i = 0; i + 1 < extra.length; i += 2) {
            q.append('&').append(extra[i]).append('=').append(enc(extra[i + 1]));
        }
        return get(q.toString(), 200);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static JsonNode step(JsonNode explanation, String source) {
        for (JsonNode s : explanation.path("chain")) {
            if (s.path("source").asText().equals(source)) {
                return s;
            }
        }
        throw new AssertionError("no step " + source + " in " + explanation);
    }

    @Test
    void clientSourceWinsAndTheDeniedScopeIsShownAsCut() throws Exception {
        JsonNode e = explain("configured-client", "redirect_uri", "https://chatgpt.com/cb");
        assertThat(e.path("winner").asText()).isEqualTo("CLIENT");
        assertThat(e.path("scope").asText()).isEqualTo("worker:read");
        assertThat(e.path("family").asText()).isEqualTo("chatgpt");
        JsonNode client = step(e, "CLIENT");
        assertThat(client.path("status").asText()).isEqualTo("WON");
        assertThat(client.path("candidate").asText()).isEqualTo("worker:read admin:all");
        assertThat(client.path("cuts").get(0).path("scope").asText()).isEqualTo("admin:all");
        assertThat(client.path("cuts").get(0).path("reason").asText()).isEqualTo("DENIED");
        assertThat(client.path("cuts").get(0).path("rule").asText()).isEqualTo("admin:*");
        // Every configured source is shown, in order, even those the decision does not reach.
        assertThat(e.path("chain").findValuesAsText("source"))
                .containsExactly("CLIENT", "REGISTERED", "LEARNED", "DOCUMENT", "RESOURCE", "SERVER", "DEFAULT");
        assertThat(step(e, "DEFAULT").path("status").asText()).isEqualTo("YIELDS");
        assertThat(step(e, "DOCUMENT").path("status").asText()).isEqualTo("NOT_APPLICABLE");
    }

    @Test
    void registeredSourceWins() throws Exception {
        JsonNode e = explain("registered-client");
        assertThat(e.path("winner").asText()).isEqualTo("REGISTERED");
        assertThat(e.path("scope").asText()).isEqualTo("people:read");
        assertThat(step(e, "CLIENT").path("status").asText()).isEqualTo("NO_CANDIDATE");
        assertThat(step(e, "REGISTERED").path("cuts").findValuesAsText("reason")).containsExactly("DENIED");
    }

    @Test
    void learnedSourceWins() throws Exception {
        JsonNode e = explain("learned-client");
        assertThat(e.path("winner").asText()).isEqualTo("LEARNED");
        assertThat(e.path("scope").asText()).isEqualTo("contracts:read");
        assertThat(step(e, "REGISTERED").path("status").asText()).isEqualTo("NO_CANDIDATE");
    }

    @Test
    void documentSourceWins() throws Exception {
        JsonNode e = explain(DOC_CLIENT);
        assertThat(e.path("winner").asText()).isEqualTo("DOCUMENT");
        assertThat(e.path("scope").asText()).isEqualTo("doc:read");
        assertThat(step(e, "DOCUMENT").path("candidate").asText()).isEqualTo("doc:read");
    }

    @Test
    void resourceSourceWins() throws Exception {
        JsonNode e = explain("unknown-client", "resource", "https://mcp.example/mcp");
        assertThat(e.path("winner").asText()).isEqualTo("RESOURCE");
        assertThat(e.path("scope").asText()).isEqualTo("mcp:tools");
        assertThat(e.path("resource").asText()).isEqualTo("https://mcp.example/mcp");
    }

    @Test
    void serverSourceWinsWithItsDeniedScopeCut() throws Exception {
        JsonNode e = explain("unknown-client");
        assertThat(e.path("winner").asText()).isEqualTo("SERVER");
        assertThat(e.path("scope").asText()).doesNotContain("admin:all").contains("worker:read");
        assertThat(step(e, "SERVER").path("cuts").findValuesAsText("scope")).containsExactly("admin:all");
        assertThat(step(e, "RESOURCE").path("status").asText()).isEqualTo("NOT_APPLICABLE");
    }

    @Test
    void defaultSourceWinsWhenNothingElseYields() throws Exception {
        config.set(config("[client, registered, learned, default]"));
        JsonNode e = explain("unknown-client");
        assertThat(e.path("winner").asText()).isEqualTo("DEFAULT");
        assertThat(e.path("scope").asText()).isEqualTo("fallback:read");
    }

    @Test
    void unresolvedShowsEverySourceEmpty() throws Exception {
        config.set(config("[client, registered, learned]"));
        JsonNode e = explain("unknown-client");
        assertThat(e.path("winner").isNull()).isTrue();
        assertThat(e.path("outcome").asText()).containsIgnoringCase("unresolved");
        assertThat(e.path("chain").findValuesAsText("status")).containsOnly("NO_CANDIDATE");
    }

    @Test
    void clientViewShowsTheRegistrationLearnedScopeAndResolution() throws Exception {
        JsonNode c = get("/admin/clients/registered-client", 200);
        assertThat(c.path("registration").path("client_id").asText()).isEqualTo("registered-client");
        assertThat(c.path("registration").path("scope").asText()).isEqualTo("people:read admin:all");
        assertThat(c.path("registration").has("learned_scope")).isTrue();
        assertThat(c.path("resolution").path("winner").asText()).isEqualTo("REGISTERED");
        assertThat(c.toString()).doesNotContain("secret");

        get("/admin/clients/nobody", 404);
        HttpResponse<String> del = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + admin.port() + "/admin/clients/registered-client")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(del.statusCode()).isEqualTo(204);
        assertThat(store.rows).doesNotContainKey("registered-client");
        get("/admin/clients/registered-client", 404);
    }
}
