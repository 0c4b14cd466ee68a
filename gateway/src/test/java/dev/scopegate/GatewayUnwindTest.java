package dev.scopegate;

import dev.scopegate.config.ConfigLoader;
import dev.scopegate.config.ScopegateConfig;
import dev.scopegate.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * A start that fails part way leaves nothing behind: after {@link Gateway#start} throws, no thread
 * it made is alive, the listeners it bound are free again and the embedded store is closed (its
 * write-ahead log is checkpointed and removed only when the last connection closes). And a gateway
 * stopped with {@link Gateway#close()} can be started again at once on the same ports.
 */
class GatewayUnwindTest {

    /** Process-wide and started by Logback, not by a gateway. */
    private static final Set<String> NOT_OURS = Set.of("scopegate-log-writer");

    @TempDir
    Path dir;

    @Test
    void aTakenAdminPortUnwindsTheStoreTheSchedulerAndTheProxy() throws Exception {
        Ports p = Ports.free();
        try (ServerSocket taken = bound(p.admin)) {
            assertStartFailsCleanly(config(p, ""), "admin 127.0.0.1:" + p.admin, p.proxy);
        }
    }

    @Test
    void aTakenHealthPortUnwindsEverythingElse() throws Exception {
        Ports p = Ports.free();
        int healthPort = freePort();
        try (ServerSocket taken = bound(healthPort)) {
            assertStartFailsCleanly(config(p, "health: {host: 127.0.0.1, port: " + healthPort + "}\n"),
                    "health 127.0.0.1:" + healthPort, p.proxy, p.admin);
        }
    }

    @Test
    void aTakenListenPortUnwindsTheMetadataFetcherAndTheStore() throws Exception {
        Ports p = Ports.free();
        try (ServerSocket taken = bound(p.proxy)) {
            assertStartFailsCleanly(config(p, ""), "listen 127.0.0.1:" + p.proxy, p.admin);
        }
    }

    /** Built after the store, the scheduler and the event loops: the IdP's CA bundle vanished since the config was read. */
    @Test
    void anUpstreamTlsBundleGoneAfterTheConfigWasReadUnwindsWhatWasBuiltBeforeIt() throws Exception {
        Ports p = Ports.free();
        Path ca = Files.writeString(dir.resolve("ca.pem"), TestPki.create("GatewayUnwindTest CA").pem());
        ScopegateConfig c = config(p, "upstream: {url: \"https://127.0.0.1:" + p.idp + "\", connect-timeout: 1s, "
                + "tls: {ca: \"" + slashes(ca) + "\"}}\n");
        Files.delete(ca);
        assertStartFailsCleanly(c, "ca.pem", p.proxy, p.admin);
    }

    /** The store's file is not a database: it fails when opened, after the start checks passed. */
    @Test
    void aStoreThatCannotBeOpenedUnwindsWhatWasBuiltBeforeIt() throws Exception {
        Ports p = Ports.free();
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data").resolve("scopegate.db"), "not a database, but long enough to be read as one ".repeat(40));
        Set<Thread> before = gatewayThreads();
        assertThatThrownBy(() -> Gateway.start(config(p, ""))).hasMessageContaining("scopegate.db");
        assertNoNewThreads(before);
        assertFree(p.proxy);
        assertFree(p.admin);
    }

    @Test
    void closedThenStartedAgainOnTheSamePortsAndStore() throws Exception {
        Ports p = Ports.free();
        ScopegateConfig c = config(p, "health: {host: 127.0.0.1, port: " + p.health + "}\n");
        Set<Thread> before = gatewayThreads();
        for (int round = 0; round < 2; round++) {
            Gateway g = Gateway.start(c);
            try {
                assertThat(g.proxyPort()).isEqualTo(p.proxy);
                assertThat(status("http://127.0.0.1:" + p.admin + "/healthz")).isEqualTo(200);
                assertThat(status("http://127.0.0.1:" + p.health + "/healthz")).isEqualTo(200);
            } finally {
                g.close();
            }
            g.close(); // idempotent
            assertNoNewThreads(before);
            assertFree(p.proxy);
            assertFree(p.admin);
            assertFree(p.health);
            assertStoreClosed();
        }
    }

    /** @param free the ports the failed start must have released (not the one the test holds) */
    private void assertStartFailsCleanly(ScopegateConfig c, String message, int... free) throws Exception {
        Set<Thread> before = gatewayThreads();
        assertThatThrownBy(() -> Gateway.start(c)).hasMessageContaining(message);
        assertNoNewThreads(before);
        for (int port : free) {
            assertFree(port);
        }
        assertStoreClosed();
    }

    /** SQLite removes the write-ahead log when the last connection to the database closes. */
    private void assertStoreClosed() {
        Path db = dir.resolve("data").resolve("scopegate.db");
        if (Files.exists(db)) {
            assertThat(dir.resolve("data").resolve("scopegate.db-wal")).as("store still open").doesNotExist();
        }
    }

    private ScopegateConfig config(Ports p, String more) throws Exception {
        String upstream = more.contains("upstream:") ? ""
                : "upstream: {url: \"http://127.0.0.1:" + p.idp + "\", connect-timeout: 1s}\n";
        Path file = dir.resolve("scopegate.yaml");
        Files.writeString(file, """
                listen: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: %d}
                store: {path: "%s"}
                """.formatted(p.proxy, p.admin, slashes(dir.resolve("data"))) + upstream + more);
        return new ConfigLoader(n -> null).load(file);
    }

    private static String slashes(Path path) {
        return path.toString().replace("\\", "/");
    }

    /** Threads a gateway names {@code scopegate-*}: event loops, executors, store, watchers. */
    static Set<Thread> gatewayThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("scopegate-") && !NOT_OURS.contains(t.getName()))
                .collect(Collectors.toSet());
    }

    /** Waits (at most 10 s) for every gateway thread that was not there {@code before} to end. */
    static void assertNoNewThreads(Set<Thread> before) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            List<String> left = gatewayThreads().stream().filter(t -> !before.contains(t) && t.isAlive())
                    .map(Thread::getName).sorted().toList();
            if (left.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("threads still alive after the gateway stopped: " + left);
            }
            Thread.sleep(50);
        }
    }

    private static void assertFree(int port) {
        try (ServerSocket s = bound(port)) {
            assertThat(s.isBound()).isTrue();
        } catch (IOException e) {
            fail("port " + port + " still taken: " + e);
        }
    }

    private static ServerSocket bound(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
        return s;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = bound(0)) {
            return s.getLocalPort();
        }
    }

    private static int status(String url) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private record Ports(int proxy, int admin, int health, int idp) {
        static Ports free() throws IOException {
            return new Ports(freePort(), freePort(), freePort(), freePort());
        }
    }
}
