package dev.scopegate.it;

import dev.scopegate.model.Registration;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Group commit keeps "a 201 that reached the client is on disk": 32 registrations sent at once
 * through a gateway process (so that they share commits), {@code kill -9} the moment the last
 * 201 arrived, and every one of them is in the database file afterwards.
 */
class GroupCommitKillNineTest {

    private static final int CLIENTS = 32;

    @TempDir
    Path dir;
    IdpStandIn idp;
    Process gateway;
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.destroyForcibly();
        }
        if (idp != null) {
            idp.close();
        }
    }

    @Test
    @Timeout(120)
    void thirtyTwoConcurrentRegistrationsSurviveKillNine() throws Exception {
        idp = new IdpStandIn();
        int port = KillNineTest.freePort();
        int adminPort = KillNineTest.freePort();
        Path data = dir.resolve("data");
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, """
                listen: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: %d}
                upstream: {url: "%s"}
                store: {path: "%s"}
                """.formatted(port, adminPort, idp.base(), data.toString().replace("\\", "/")));
        KillNineTest launcher = new KillNineTest();
        gateway = launcher.startGateway(config);
        launcher.waitReady(adminPort);

        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth/register"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"redirect_uris\":[\"https://chatgpt.com/cb\"],"
                            + "\"scope\":\"worker:read people:read n:" + i + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        gateway.destroyForcibly(); // SIGKILL right after the last 201 reached us
        assertThat(gateway.waitFor(10, TimeUnit.SECONDS)).isTrue();

        List<String> clients = new ArrayList<>();
        for (var f : sent) {
            HttpResponse<String> r = f.join();
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            clients.add(dev.scopegate.testing.TestHttp.field(r.body(), "client_id"));
        }
        assertThat(clients).doesNotHaveDuplicates().hasSize(CLIENTS);
        // No clean close: what the 201s promised must come back from the write-ahead log.
        assertThat(data.resolve(SqliteRegistrationStore.FILE_NAME + "-wal")).exists();
        try (SqliteRegistrationStore store = new SqliteRegistrationStore(data)) {
            for (int i = 0; i < CLIENTS; i++) {
                Optional<Registration> r = store.get(clients.get(i)).join();
                assertThat(r).as(clients.get(i)).isPresent();
                assertThat(r.get().scope()).startsWith("worker:read people:read n:");
            }
            assertThat(store.count().join()).isEqualTo((long) CLIENTS);
        }
    }

    @Test
    @Timeout(120)
    void commitsAreCountedOnMetrics() throws Exception {
        idp = new IdpStandIn();
        int port = KillNineTest.freePort();
        int adminPort = KillNineTest.freePort();
        Path config = dir.resolve("scopegate.yaml");
        Files.writeString(config, """
                listen: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: %d}
                upstream: {url: "%s"}
                store: {path: "%s"}
                """.formatted(port, adminPort, idp.base(), dir.resolve("data").toString().replace("\\", "/")));
        KillNineTest launcher = new KillNineTest();
        gateway = launcher.startGateway(config);
        launcher.waitReady(adminPort);
        List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            sent.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth/register"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"redirect_uris\":[\"https://chatgpt.com/cb\"],\"scope\":\"a\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        // Every registration went through a commit; how many shared one depends on timing.
        double writes = value(metrics, "scopegate_store_commit_batch_size_sum");
        double commits = value(metrics, "scopegate_store_commit_batch_size_count");
        assertThat(writes).isEqualTo(CLIENTS);
        assertThat(commits).isBetween(1.0, (double) CLIENTS);
        assertThat(metrics).contains("scopegate_store_commit_batch_size_bucket{le=\"1.0\"}")
                .contains("scopegate_store_write_queue ");
    }

    private static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
        assertThat(m.find()).as(series + " in\n" + metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
