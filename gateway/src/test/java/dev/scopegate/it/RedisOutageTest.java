package dev.scopegate.it;

import dev.scopegate.Gateway;
import dev.scopegate.store.redis.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.scopegate.it.RedisGateways.admin;
import static dev.scopegate.it.RedisGateways.waitFor;
import static dev.scopegate.it.SeedScenariosTest.SEED_SCOPE_APPENDED;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The failure policy of {@code store.type: redis} with real processes: Redis stopped and
 * restarted under a steady request loop through two replicas, and Redis absent when a replica
 * starts. No registration relayed to a client is lost, no request hangs, readiness and metrics
 * report the outage, and the proxy keeps serving. {@code /readyz} stays 200 through the outage
 * (a Redis blip must not take every replica out of service) unless
 * {@code health.store-required: true}.
 */
class RedisOutageTest {

    @TempDir
    Path dir;
    RedisServer redis;
    RedisGateways gateways;

    @AfterEach
    void stop() {
        if (gateways != null) {
            gateways.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void redisStoppedAndRestartedUnderASteadyLoopLosesNoRegistrationAndStallsNoRequest() throws Exception {
        RedisServer.assumeInstalled();
        // Acknowledged writes must survive the restart: Redis's own durability, as operators should run it.
        redis = RedisServer.start(dir.resolve("redis"), "--appendonly", "yes", "--appendfsync", "always");
        gateways = new RedisGateways(dir);
        Gateway a = gateways.start("a", redis.uri());
        Gateway b = gateways.start("b", redis.uri(), "health: {store-required: true}");
        gateways.awaitReady(a);
        gateways.awaitReady(b);
        waitFor(() -> metricsShow(a, "scopegate_store_up 1.0"));

        // The loop: register through one replica, reconnect without scope through the other.
        Map<String, Gateway> registeredThrough = new ConcurrentHashMap<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicInteger rounds = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread loop = new Thread(() -> {
            for (int i = 0; running.get(); i++) {
                Gateway via = i % 2 == 0 ? a : b;
                Gateway other = via == a ? b : a;
                try {
                    HttpResponse<String> r = gateways.send("POST", RedisGateways.gw(via) + "/oauth/register",
                            RedisGateways.registrationBody(IdpStandIn.SEED_SCOPE));
                    if (r.statusCode() != 201) {
                        failures.add("registration answered " + r.statusCode());
                        continue;
                    }
                    String clientId = dev.scopegate.testing.TestHttp.field(r.body(), "client_id");
                    registeredThrough.put(clientId, via);
                    // 302 when the other replica finds it, 400 from the IdP while Redis is away: both
                    // fine here; what matters is that an answer comes (the client's timeout is 15 s).
                    gateways.reconnect(other, clientId, "loop-" + i);
                    rounds.incrementAndGet();
                } catch (Exception e) {
                    failures.add("request failed: " + e);
                }
            }
        }, "redis-outage-loop");
        loop.start();
        try {
            waitFor(() -> rounds.get() >= 5);

            redis.stop();
            int atStop = rounds.get();
            waitFor(() -> rounds.get() >= atStop + 6); // the proxy keeps serving and capturing
            // The default (store-required: false): still ready, the outage shows in the JSON and the gauge.
            HttpResponse<String> stillReady = gateways.get(admin(a) + "/readyz");
            assertThat(stillReady.statusCode()).isEqualTo(200);
            assertThat(stillReady.body()).contains("\"ready\" : true").contains("\"store\" : false")
                    .contains("\"metadata\" : true");
            // store-required: true: not ready while the store is down.
            HttpResponse<String> notReady = gateways.get(admin(b) + "/readyz");
            assertThat(notReady.statusCode()).isEqualTo(503);
            assertThat(notReady.body()).contains("\"ready\" : false").contains("\"store\" : false")
                    .contains("\"metadata\" : true");
            waitFor(() -> metricsShow(a, "scopegate_store_redis_up 0.0") && metricsShow(a, "scopegate_store_up 0.0"));
            assertThat(gateways.metrics(a)).doesNotContain("scopegate_store_redis_deferred_writes_total 0.0");

            redis.restart();
            int atRestart = rounds.get();
            waitFor(() -> rounds.get() >= atRestart + 5);
        } finally {
            running.set(false);
            loop.join(60_000);
        }
        assertThat(loop.isAlive()).as("loop finished").isFalse();
        assertThat(failures).isEmpty();
        for (Gateway g : List.of(a, b)) {
            waitFor(() -> metricsShow(g, "scopegate_store_redis_outbox_pending 0.0")
                    && metricsShow(g, "scopegate_store_redis_up 1.0") && metricsShow(g, "scopegate_store_up 1.0"));
            gateways.awaitReady(g);
        }
        assertThat(gateways.metrics(a) + gateways.metrics(b)).contains("scopegate_store_redis_replayed_writes_total");

        // Every registration relayed to a client is found, through the replica that did not capture it.
        assertThat(registeredThrough).hasSizeGreaterThanOrEqualTo(16);
        for (Map.Entry<String, Gateway> e : registeredThrough.entrySet()) {
            Gateway other = e.getValue() == a ? b : a;
            String clientId = e.getKey();
            assertThat(gateways.reconnect(other, clientId, "after")).as("reconnect of %s", clientId).isEqualTo(302);
            assertThat(gateways.lastAuthorizeQuery()).contains(clientId).endsWith(SEED_SCOPE_APPENDED);
            assertThat(redis.command("EXISTS", RedisGateways.PREFIX + "client:" + clientId)).isEqualTo(1L);
        }
    }

    @Test
    void redisAbsentAtStartIsNotFatalAndWhatWasCapturedReachesItLater() throws Exception {
        RedisServer.assumeInstalled();
        int port = RedisServer.freePort();
        gateways = new RedisGateways(dir);
        Gateway a = gateways.start("a", "redis://127.0.0.1:" + port);
        Gateway required = gateways.start("required", "redis://127.0.0.1:" + port, "health: {store-required: true}");
        gateways.awaitMetadata(a);
        gateways.awaitMetadata(required);

        HttpResponse<String> ready = gateways.get(admin(a) + "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"store\" : false");
        HttpResponse<String> notReady = gateways.get(admin(required) + "/readyz");
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).contains("\"store\" : false");
        waitFor(() -> metricsShow(a, "scopegate_store_up 0.0"));
        String clientId = gateways.register(a, IdpStandIn.SEED_SCOPE); // kept in A's outbox
        assertThat(gateways.reconnect(a, clientId, "s1")).isEqualTo(302);
        assertThat(gateways.lastAuthorizeQuery()).endsWith(SEED_SCOPE_APPENDED);
        assertThat(gateways.metrics(a)).contains("scopegate_store_redis_outbox_pending 1.0");

        redis = RedisServer.startOn(dir.resolve("redis"), port);
        gateways.awaitReady(a);
        gateways.awaitReady(required);
        assertThat(gateways.get(admin(required) + "/readyz").statusCode()).isEqualTo(200);
        waitFor(() -> metricsShow(a, "scopegate_store_redis_outbox_pending 0.0"));

        Gateway b = gateways.start("b", redis.uri());
        gateways.awaitReady(b);
        assertThat(gateways.reconnect(b, clientId, "s2")).isEqualTo(302);
        assertThat(gateways.lastAuthorizeQuery()).endsWith(SEED_SCOPE_APPENDED);
    }

    private boolean metricsShow(Gateway g, String line) {
        try {
            return gateways.metrics(g).contains(line);
        } catch (Exception e) {
            return false;
        }
    }
}
