package dev.scopegate.it;

import dev.scopegate.Gateway;
import dev.scopegate.store.redis.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static dev.scopegate.it.RedisGateways.admin;
import static dev.scopegate.it.RedisGateways.waitFor;
import static dev.scopegate.it.SeedScenariosTest.SEED_SCOPE_APPENDED;
import static dev.scopegate.it.SeedScenariosTest.SEED_SCOPE_QUERY;
import static dev.scopegate.it.SeedScenariosTest.authorizeQuery;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two gateway replicas sharing one real Redis ({@code store.type: redis}), as behind a load
 * balancer: what one replica captures or learns, the other uses; what one updates or deletes
 * (RFC 7592), the other stops using, although it had it cached.
 */
class RedisReplicasTest {

    @TempDir
    Path dir;
    RedisServer redis;
    RedisGateways gateways;
    Gateway a;
    Gateway b;

    @BeforeEach
    void start() throws Exception {
        RedisServer.assumeInstalled();
        redis = RedisServer.start(dir.resolve("redis"));
        gateways = new RedisGateways(dir);
        a = gateways.start("a", redis.uri());
        b = gateways.start("b", redis.uri());
        gateways.awaitReady(a);
        gateways.awaitReady(b);
    }

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
    void theSeedReconnectSucceedsWhenRegistrationAndReconnectHitDifferentReplicas() throws Exception {
        // Scenario 1: register through A (no scope in the DCR), first connect with scope through B
        // (authorization request and code exchange; what B learns is shared through Redis).
        String clientId = gateways.register(a, null);
        String q1 = authorizeQuery(clientId, "oauth_s_691b55f5b11481919ddp59nge4998443f", SEED_SCOPE_QUERY,
                SeedScenariosTest.CHALLENGE);
        assertThat(gateways.get(RedisGateways.gw(b) + "/oauth/authorize?" + q1).statusCode()).isEqualTo(302);
        assertThat(gateways.lastAuthorizeQuery()).isEqualTo(q1);
        assertThat(gateways.send("POST", RedisGateways.gw(b) + "/oauth/token",
                "grant_type=authorization_code&code=c0de&client_id=" + clientId + "&code_verifier=" + SeedScenariosTest.VERIFIER,
                "application/x-www-form-urlencoded").statusCode()).isEqualTo(200);
        waitFor(() -> {
            try {
                return gateways.get(admin(a) + "/admin/clients/" + clientId).body().contains("time-off:write");
            } catch (Exception e) {
                return false;
            }
        });

        // Scenario 2: reconnect without scope, through either replica.
        for (Gateway replica : new Gateway[]{a, b}) {
            String q2 = authorizeQuery(clientId, "oauth_s_691b57560b648191a5a85lt8e30e0894", null);
            HttpResponse<String> r2 = gateways.get(RedisGateways.gw(replica) + "/oauth/authorize?" + q2);
            assertThat(r2.statusCode()).isEqualTo(302);
            assertThat(gateways.lastAuthorizeQuery()).isEqualTo(q2 + SEED_SCOPE_APPENDED);
        }
    }

    @Test
    void aRegistrationCapturedByOneReplicaIsFoundByTheOther() throws Exception {
        String clientId = gateways.register(a, IdpStandIn.SEED_SCOPE);

        assertThat(gateways.reconnect(b, clientId, "s1")).isEqualTo(302);
        assertThat(gateways.lastAuthorizeQuery()).endsWith(SEED_SCOPE_APPENDED);
        assertThat(redis.command("HGET", RedisGateways.PREFIX + "client:" + clientId, "doc"))
                .asString().contains("\"scope\":\"" + IdpStandIn.SEED_SCOPE + "\"")
                .doesNotContain("client_secret").doesNotContain("rat-");
    }

    @Test
    void anUpdateThroughOneReplicaReplacesWhatTheOtherHadCached() throws Exception {
        String clientId = gateways.register(a, "worker:read");
        assertThat(gateways.reconnect(b, clientId, "s1")).isEqualTo(302); // B caches worker:read
        assertThat(gateways.lastAuthorizeQuery()).endsWith("&scope=worker%3Aread");

        HttpResponse<String> put = gateways.send("PUT", RedisGateways.gw(a) + "/oauth/register/" + clientId,
                "{\"client_id\":\"" + clientId + "\",\"scope\":\"people:read\"}");
        assertThat(put.statusCode()).isEqualTo(200);

        waitFor(() -> {
            try {
                return gateways.reconnect(b, clientId, "s2") == 302
                        && gateways.lastAuthorizeQuery().endsWith("&scope=people%3Aread");
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    void aDeleteThroughOneReplicaIsSeenByTheOther() throws Exception {
        String clientId = gateways.register(a, IdpStandIn.SEED_SCOPE);
        assertThat(gateways.reconnect(b, clientId, "s1")).isEqualTo(302); // B caches it
        assertThat(gateways.get(admin(b) + "/admin/clients/" + clientId).statusCode()).isEqualTo(200);

        HttpResponse<String> del = gateways.send("DELETE", RedisGateways.gw(a) + "/oauth/register/" + clientId, null);
        assertThat(del.statusCode()).isEqualTo(204);

        waitFor(() -> {
            try {
                return gateways.get(admin(b) + "/admin/clients/" + clientId).statusCode() == 404;
            } catch (Exception e) {
                return false;
            }
        });
        assertThat(gateways.reconnect(b, clientId, "s2")).isEqualTo(400); // forwarded unchanged; the IdP refuses
        assertThat(gateways.lastAuthorizeQuery()).doesNotContain("scope=");
        assertThat(redis.command("EXISTS", RedisGateways.PREFIX + "client:" + clientId)).isEqualTo(0L);
    }

    @Test
    void metricsShowTheRedisStore() throws Exception {
        String clientId = gateways.register(a, "worker:read");
        gateways.reconnect(b, clientId, "s");

        assertThat(gateways.metrics(b)).contains("scopegate_store_redis_up 1.0")
                .contains("scopegate_store_redis_outbox_pending 0.0")
                .contains("scopegate_store_redis_invalidations_total{cause=\"resync\"}");
    }
}
