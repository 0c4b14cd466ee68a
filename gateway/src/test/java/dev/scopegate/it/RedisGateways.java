package dev.scopegate.it;

import dev.scopegate.Gateway;
import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * In-process gateway replicas on {@code store.type: redis} in front of one {@link IdpStandIn}, and
 * the HTTP calls the Redis integration tests make through them. Not thread-safe except the
 * request helpers.
 */
final class RedisGateways implements AutoCloseable {

    static final String PREFIX = "it:";

    final Path dir;
    final IdpStandIn idp;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Gateway> started = new ArrayList<>();

    RedisGateways(Path dir) throws Exception {
        this.dir = dir;
        this.idp = new IdpStandIn();
    }

    /**
     * Starts a replica named {@code name} (its own {@code store.path}, for the outbox) on
     * {@code redisUri}. The URI's timeout is raised over the default: the test machine is shared.
     */
    Gateway start(String name, String redisUri) throws Exception {
        return start(name, redisUri, "");
    }

    /** {@link #start(String, String)} with {@code extraYaml} (top-level sections) appended. */
    Gateway start(String name, String redisUri, String extraYaml) throws Exception {
        String yaml = """
                listen: {host: 127.0.0.1, port: 0, drain-timeout: 1s}
                admin: {host: 127.0.0.1, port: 0}
                upstream: {url: "%s", response-timeout: 10s}
                store: {type: redis, path: "%s", redis: {uri: "%s?timeout=4s", key-prefix: "%s"}}
                scope:
                  families:
                    - {name: chatgpt, redirect-hosts: [chatgpt.com]}
                %s
                """.formatted(idp.base(), dir.resolve(name).toString().replace("\\", "/"), redisUri, PREFIX, extraYaml);
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        ScopegateConfig config = new ConfigLoader(n -> null).load(file);
        Gateway g = Gateway.start(config);
        started.add(g);
        return g;
    }

    void stop(Gateway g) {
        started.remove(g);
        g.close();
    }

    @Override
    public void close() {
        for (Gateway g : started) {
            g.close();
        }
        started.clear();
        idp.close();
    }

    static String gw(Gateway g) {
        return "http://127.0.0.1:" + g.proxyPort();
    }

    static String admin(Gateway g) {
        return "http://127.0.0.1:" + g.adminPort();
    }

    HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> send(String method, String url, String body) throws Exception {
        return send(method, url, body, "application/json");
    }

    HttpResponse<String> send(String method, String url, String body, String contentType) throws Exception {
        HttpRequest.BodyPublisher p = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body);
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15))
                .header("Content-Type", contentType).method(method, p).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until the replica's metadata is loaded (its store may still be down). */
    void awaitMetadata(Gateway g) throws Exception {
        waitFor(() -> {
            try {
                return get(admin(g) + "/readyz").body().contains("\"metadata\" : true");
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** Waits until the replica is ready and its store answers (by default /readyz is 200 without it). */
    void awaitReady(Gateway g) throws Exception {
        waitFor(() -> {
            try {
                HttpResponse<String> r = get(admin(g) + "/readyz");
                return r.statusCode() == 200 && r.body().contains("\"store\" : true");
            } catch (Exception e) {
                return false;
            }
        });
    }

    /** Registers a client through {@code g} (RFC 7591) and returns its {@code client_id}. */
    String register(Gateway g, String scopeOrNull) throws Exception {
        HttpResponse<String> r = send("POST", gw(g) + "/oauth/register", registrationBody(scopeOrNull));
        assertThat(r.statusCode()).as("registration status").isEqualTo(201);
        return dev.scopegate.testing.TestHttp.field(r.body(), "client_id");
    }

    static String registrationBody(String scopeOrNull) {
        return "{\"redirect_uris\":[\"https://chatgpt.com/connector_platform_oauth_redirect\"],\"client_name\":\"ChatGPT\""
                + (scopeOrNull == null ? "" : ",\"scope\":\"" + scopeOrNull + "\"") + "}";
    }

    /** The seed's reconnect (no {@code scope}) through {@code g}; returns the status. */
    int reconnect(Gateway g, String clientId, String state) throws Exception {
        return get(gw(g) + "/oauth/authorize?" + SeedScenariosTest.authorizeQuery(clientId, state, null)).statusCode();
    }

    String lastAuthorizeQuery() {
        return idp.authorizeQueries.get(idp.authorizeQueries.size() - 1);
    }

    String metrics(Gateway g) throws Exception {
        return get(admin(g) + "/metrics").body();
    }

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in time");
            }
            Thread.sleep(25);
        }
    }
}
