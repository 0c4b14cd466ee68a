package dev.scopegate.ops;

import ch.qos.logback.classic.Level;
import dev.scopegate.proxy.RawConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static dev.scopegate.testing.TestHttp.param;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13: the IdP restarts (listener and every connection closed, back on the same port a
 * second later) under a keep-alive load through the gateway. Requests fail only while it is
 * down, with a gateway error (502/503/504) or a connection error; once it is back, the gateway's
 * upstream pool replaces the connections that died and no request fails, without restarting the
 * gateway; at the end the gateway is idle again.
 */
class IdpRestartUnderLoadTest {

    static final String SCOPE = "worker:read";
    static final long GRACE_NANOS = Duration.ofMillis(500).toNanos();
    static final Set<Integer> OUTAGE_STATUSES = Set.of(502, 503, 504);

    @TempDir
    Path dir;
    Harness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    static String target(int connection, int n) {
        return n % 2 == 0
                ? "/oauth/authorize?" + Harness.authorizeQuery("load-client", "c" + connection + "-" + n, null)
                : "/pass/c" + connection + "/" + n;
    }

    static boolean ok(KeepAliveLoad.Exchange x) {
        return x.status() == (x.target().startsWith("/oauth/authorize") ? 302 : 200);
    }

    static long servedAfter(List<KeepAliveLoad.Exchange> exchanges, long nanos) {
        return exchanges.stream().filter(x -> x.startNanos() > nanos && ok(x)).count();
    }

    @Test
    void failuresOnlyWhileTheIdpIsDownAndThePoolRecoversWithoutAGatewayRestart() throws Exception {
        h = new Harness(dir);
        h.start(h.yaml("  sources: [client]\n  clients: {load-client: \"" + SCOPE + "\"}", ""));
        int port = h.gateway.proxyPort();

        long downAt;
        long upAt;
        int queriesBeforeRestart;
        List<KeepAliveLoad.Exchange> all;
        try (LogCapture errors = new LogCapture("scopegate.proxy", Level.INFO).offConsole();
             KeepAliveLoad load = new KeepAliveLoad(port, 4, IdpRestartUnderLoadTest::target,
                     20_000, Duration.ofSeconds(15), 2)) {
            // Warm: the client connections have served requests, the gateway's pool holds keep-alive connections.
            Harness.waitFor(() -> load.completed() >= 100);

            downAt = System.nanoTime();
            h.idp.stop();
            Thread.sleep(1000); // the outage itself
            queriesBeforeRestart = h.idp.authorizeQueries.size();
            h.idp.start();
            upAt = System.nanoTime();

            // Enough served after the grace window for every connection to have gone through the pool again.
            Harness.waitFor(() -> servedAfter(load.exchanges(), upAt + GRACE_NANOS) >= 200);
            load.close();
            all = load.exchanges();
            assertThat(all).hasSize(load.sent());
            // DESIGN §9: each error the gateway answers comes with one log line naming the cause.
            long answeredErrors = all.stream().filter(x -> x.status() >= 500).count();
            assertThat(errors.messages().stream().filter(m -> m.contains("upstream")).count()).isEqualTo(answeredErrors);
        }

        List<KeepAliveLoad.Exchange> failed = all.stream().filter(x -> !ok(x)).toList();
        List<KeepAliveLoad.Exchange> whileDown = failed.stream()
                .filter(x -> x.endNanos() >= downAt && x.startNanos() <= upAt + GRACE_NANOS).toList();
        List<KeepAliveLoad.Exchange> outside = failed.stream().filter(x -> !whileDown.contains(x)).toList();
        System.out.println("IdP restart under load: " + all.size() + " sent, " + whileDown.size()
                + " failed while down, " + outside.size() + " after");

        assertThat(outside).as("failures outside the outage and its grace window").isEmpty();
        assertThat(whileDown).as("the outage was seen").isNotEmpty()
                .allSatisfy(x -> assertThat(x.status() < 0 || OUTAGE_STATUSES.contains(x.status())).as(x.toString()).isTrue());
        // Served after the grace window: the pool took new connections to the restarted IdP.
        assertThat(servedAfter(all, upAt + GRACE_NANOS)).isGreaterThanOrEqualTo(200);
        assertThat(h.idp.authorizeQueries.size()).isGreaterThan(queriesBeforeRestart);
        assertThat(h.idp.authorizeQueries).allSatisfy(q -> assertThat(param(q, "scope")).as(q).isEqualTo(SCOPE));

        // Same gateway, and idle once the clients are gone.
        assertThat(h.gateway.proxyPort()).isEqualTo(port);
        try (RawConnection c = RawConnection.open(port)) {
            assertThat(c.send("GET /after HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read().status()).isEqualTo(200);
        }
        Harness.waitFor(() -> {
            try {
                Scrape s = h.scrape();
                return s.value("scopegate_connections_open") == 0 && s.value("scopegate_exchanges_active") == 0;
            } catch (Exception e) {
                return false;
            }
        });
    }
}
