package dev.scopegate.ops;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sun.misc.Signal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static dev.scopegate.testing.TestHttp.param;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13: the config reloaded over and over under a steady keep-alive load, by every route a
 * reload takes (file edited in place, file renamed over, SIGHUP), loses no request and never lets
 * an authorization request reach the IdP without one of the configured scopes.
 */
class ReloadUnderLoadTest {

    /** The two values every reload alternates between (both in the test IdP's scopes_supported). */
    static final String A = "worker:read";
    static final String B = "people:read contracts:read";
    static final int RELOADS = 24;

    @TempDir
    Path dir;
    Harness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    /**
     * The file's two variants differ in {@code scope.clients.load-client} and {@code logging.access};
     * {@code scope.default} comes from the environment, which only a SIGHUP re-reads.
     */
    String config(String clientScope, boolean accessLog) {
        return h.yaml("  sources: [client, default]\n"
                + "  default: \"${SG_DEFAULT}\"\n"
                + "  clients: {load-client: \"" + clientScope + "\"}",
                "logging: {access: " + accessLog + "}");
    }

    static String target(int connection, int n) {
        return switch (n % 3) {
            case 0 -> "/oauth/authorize?" + Harness.authorizeQuery("load-client", "c" + connection + "-" + n, null);
            case 1 -> "/oauth/authorize?" + Harness.authorizeQuery("other-client", "c" + connection + "-" + n, null);
            default -> "/pass/c" + connection + "/" + n;
        };
    }

    double reloads() throws Exception {
        return h.scrape().sum("scopegate_config_reloads_total");
    }

    /** One authorization request from the test thread; returns the scope the IdP received with it. */
    String probe(String clientId, String state) throws Exception {
        assertThat(h.authorize(clientId, state, null).statusCode()).isEqualTo(302);
        return h.idp.authorizeQueries.stream().filter(q -> q.contains("&state=" + state + "&"))
                .map(q -> param(q, "scope")).findFirst().orElseThrow();
    }

    @Test
    void reloadsUnderKeepAliveLoadLoseNoRequestAndNeverDropTheScope() throws Exception {
        h = new Harness(dir);
        h.env.put("SG_DEFAULT", A);
        h.start(config(A, false));
        boolean sighup = h.gateway.reloadsOnSighup();
        double before = reloads();

        String clientScope = A;
        String defaultScope = A;
        try (KeepAliveLoad load = new KeepAliveLoad(h.gateway.proxyPort(), 4, ReloadUnderLoadTest::target,
                20_000, Duration.ofSeconds(18), 1)) {
            Harness.waitFor(() -> load.completed() >= 100);
            int beforeReloads = load.completed();
            for (int i = 0; i < RELOADS; i++) {
                if (i % 2 == 0) {
                    // The file: in place or by rename, alternately; the client's scope and the access log flip.
                    clientScope = clientScope.equals(A) ? B : A;
                    String text = config(clientScope, i % 4 == 0);
                    if (i % 4 == 0) {
                        Files.writeString(h.file, text, StandardCharsets.UTF_8);
                    } else {
                        Path tmp = dir.resolve(".scopegate.yaml.tmp");
                        Files.writeString(tmp, text, StandardCharsets.UTF_8);
                        Files.move(tmp, h.file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    }
                } else {
                    // SIGHUP: the environment changed, the file did not.
                    defaultScope = defaultScope.equals(A) ? B : A;
                    h.env.put("SG_DEFAULT", defaultScope);
                    if (sighup) {
                        Signal.raise(new Signal("HUP"));
                    } else {
                        h.gateway.reload(); // what the SIGHUP handler runs, where the JVM keeps the signal
                    }
                }
                double expected = before + i + 1;
                Harness.waitFor(() -> {
                    try {
                        return reloads() >= expected;
                    } catch (Exception e) {
                        return false;
                    }
                });
                // The counter moves after the swap: the next request sees the new values.
                assertThat(probe("load-client", "probe-c" + i)).isEqualTo(clientScope);
                assertThat(probe("other-client", "probe-d" + i)).isEqualTo(defaultScope);
            }
            assertThat(load.completed()).as("the load ran through the reloads").isGreaterThan(beforeReloads + RELOADS);
            load.close();

            List<KeepAliveLoad.Exchange> all = load.exchanges();
            List<KeepAliveLoad.Exchange> failed = all.stream()
                    .filter(x -> x.status() != (x.target().startsWith("/oauth/authorize") ? 302 : 200)).toList();
            System.out.println("requests under reload: " + all.size() + " sent, " + failed.size() + " failed");
            assertThat(failed).isEmpty();
            assertThat(all).hasSize(load.sent());
            assertThat(all.size()).isGreaterThan(RELOADS * 3);
        }

        assertThat(reloads() - before).isEqualTo(RELOADS);
        assertThat(h.scrape().sum("scopegate_config_reload_failures_total")).isZero();
        assertThat(h.idp.authorizeQueries).isNotEmpty().allSatisfy(q ->
                assertThat(param(q, "scope")).as(q).isIn(Set.of(A, B)));
        // Both values reached the IdP from the load itself, not only from the probes.
        assertThat(h.idp.authorizeQueries.stream().filter(q -> q.contains("&state=c"))
                .map(q -> param(q, "scope")).distinct()).containsExactlyInAnyOrder(A, B);
    }
}
