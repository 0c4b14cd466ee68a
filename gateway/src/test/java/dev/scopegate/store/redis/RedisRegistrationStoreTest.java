package dev.scopegate.store.redis;

import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationJson;
import dev.scopegate.store.StoreException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Redis store against a real {@code redis-server} of its own. */
class RedisRegistrationStoreTest {

    static final Duration TTL = Duration.ofDays(1);
    static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

    @TempDir
    Path dir;
    final List<AutoCloseable> closeLater = new ArrayList<>();

    @BeforeAll
    static void needsRedis() {
        RedisServer.assumeInstalled();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
    }

    <T extends AutoCloseable> T later(T c) {
        closeLater.add(c);
        return c;
    }

    RedisServer redis(String name, String... args) throws Exception {
        return later(RedisServer.start(dir.resolve(name), args));
    }

    RedisRegistrationStore store(String uri, Path outbox) {
        return later(new RedisRegistrationStore(new RedisRegistrationStore.Settings(uri, "t:", TTL, Duration.ofMinutes(10),
                Duration.ofMillis(100), outbox), Clock.systemUTC()));
    }

    static Registration reg(String clientId, String scope, Instant updated) {
        return new Registration(clientId, scope, List.of("https://chatgpt.com/cb"), List.of("authorization_code"),
                "ChatGPT", "https://idp/register/" + clientId, null, T0, updated);
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in time");
            }
            Thread.sleep(10);
        }
    }

    @Test
    void aRegistrationIsOneHashInTheDocumentedLayoutWithTheTtl() throws Exception {
        RedisServer r = redis("r");
        RedisRegistrationStore s = store(r.uri(), null);
        Registration x = reg("c1", "a b", T0.plusSeconds(5));

        s.put(x).join();

        assertThat(r.command("HGET", "t:client:c1", "doc")).isEqualTo(RegistrationJson.toJson(x));
        assertThat(r.command("HGET", "t:client:c1", "at")).isEqualTo(Long.toString(x.updatedAt().toEpochMilli()));
        assertThat((Long) r.command("PTTL", "t:client:c1")).isPositive().isLessThanOrEqualTo(TTL.toMillis());
        assertThat(s.get("c1").join()).contains(x);
        assertThat(s.get("unknown").join()).isEmpty();
        assertThat(s.ping()).succeedsWithin(Duration.ofSeconds(5));
        assertThat(s.up()).isTrue();
    }

    @Test
    void aReadRenewsTheTtlSoAKeyLivesAsLongAsItIsUsed() throws Exception {
        RedisServer r = redis("r");
        RedisRegistrationStore s = store(r.uri(), null);
        s.put(reg("c1", "a", T0)).join();
        r.command("PEXPIRE", "t:client:c1", "60000");

        s.get("c1").join();
        s.ping().join(); // same connection: the PEXPIRE sent with the read has been applied

        assertThat((Long) r.command("PTTL", "t:client:c1")).isGreaterThan(60_000);
    }

    @Test
    void deleteReportsWhetherTheClientExisted() throws Exception {
        RedisServer r = redis("r");
        RedisRegistrationStore s = store(r.uri(), null);
        s.put(reg("c1", "a", T0)).join();

        assertThat(s.delete("c1").join()).isTrue();
        assertThat(s.delete("c1").join()).isFalse();
        assertThat(r.command("EXISTS", "t:client:c1")).isEqualTo(0L);
    }

    @Test
    void bulkWritesCountAndScanOnlyTheirOwnPrefix() throws Exception {
        RedisServer r = redis("r");
        RedisRegistrationStore s = store(r.uri(), null);
        r.command("HSET", "other:client:x", "doc", "{}");
        r.command("SET", "t:client", "not a client");
        List<Registration> all = new ArrayList<>();
        for (int i = 0; i < 1200; i++) {
            all.add(reg("c" + i, "s" + i, T0));
        }
        long seqBefore = Long.parseLong(String.valueOf(r.command("GET", "t:seq") == null ? "0" : r.command("GET", "t:seq")));

        s.putAll(all).join();

        assertThat(s.count().join()).isEqualTo(1200L);
        List<Registration> seen = new ArrayList<>();
        assertThat(s.forEachPage(seen::addAll)).isEqualTo(1200L);
        assertThat(seen).containsExactlyInAnyOrderElementsOf(all);
        // A bulk write announces nothing per client but leaves a gap: replicas drop their caches.
        assertThat(Long.parseLong((String) r.command("GET", "t:seq"))).isEqualTo(seqBefore + 1);
    }

    @Test
    void aGuardedReplayNeverReplacesANewerEntry() throws Exception {
        RedisServer r = redis("r");
        String key = "t:client:c1";
        r.command("EVAL", Scripts.WRITE, "1", key, "put", "{\"new\":1}", "200", "60000", "0", "", "");

        assertThat(r.command("EVAL", Scripts.WRITE, "1", key, "put", "{\"old\":1}", "100", "60000", "1", "", ""))
                .isEqualTo(Scripts.KEPT_NEWER);
        assertThat(r.command("EVAL", Scripts.WRITE, "1", key, "put", "{\"same\":1}", "200", "60000", "1", "", ""))
                .isEqualTo(Scripts.KEPT_NEWER);
        assertThat(r.command("EVAL", Scripts.WRITE, "1", key, "del", "", "100", "60000", "1", "", ""))
                .isEqualTo(Scripts.KEPT_NEWER);
        assertThat(r.command("HGET", key, "doc")).isEqualTo("{\"new\":1}");

        assertThat(r.command("EVAL", Scripts.WRITE, "1", key, "put", "{\"newer\":1}", "300", "60000", "1", "", ""))
                .isEqualTo(1L);
        assertThat(r.command("EVAL", Scripts.WRITE, "1", key, "put", "{\"live\":1}", "1", "60000", "0", "", ""))
                .isEqualTo(1L); // an unguarded (live) write always wins
        assertThat(r.command("HGET", key, "doc")).isEqualTo("{\"live\":1}");
        assertThat(r.command("EVAL", Scripts.WRITE, "1", key, "del", "", "1", "60000", "1", "", "")).isEqualTo(1L);
    }

    @Test
    void anotherReplicaHearsOfEveryChangeTheWriterDoesNot() throws Exception {
        RedisServer r = redis("r");
        RedisRegistrationStore a = store(r.uri(), null);
        RedisRegistrationStore b = store(r.uri(), null);
        List<String> heardByA = new CopyOnWriteArrayList<>();
        List<String> heardByB = new CopyOnWriteArrayList<>();
        a.onRemoteChange(heardByA::add, () -> { });
        b.onRemoteChange(heardByB::add, () -> { });
        await(() -> a.feed().subscribed() && b.feed().subscribed());

        a.put(reg("c1", "a", T0)).join();
        a.delete("c1").join();
        b.put(reg("c2", "b", T0)).join();

        await(() -> heardByB.size() == 2 && heardByA.size() == 1);
        assertThat(heardByB).containsExactly("c1", "c1");
        assertThat(heardByA).containsExactly("c2");
    }

    @Test
    void aMissedNotificationDropsTheWholeCacheWithinTwoPolls() throws Exception {
        RedisServer r = redis("r");
        RedisRegistrationStore b = store(r.uri(), null);
        AtomicInteger dropAll = new AtomicInteger();
        b.onRemoteChange(id -> { }, dropAll::incrementAndGet);
        await(() -> b.feed().subscribed());
        b.ping().join();
        Thread.sleep(300); // let the first polls set the baseline
        int before = dropAll.get();

        r.command("INCR", "t:seq"); // a change whose notification never came (a writer died before publishing)

        await(() -> dropAll.get() > before);
    }

    @Test
    void aRestartOfRedisResubscribesAndDropsTheCache() throws Exception {
        RedisServer r = redis("r");
        RedisRegistrationStore a = store(r.uri(), null);
        RedisRegistrationStore b = store(r.uri(), null);
        AtomicInteger dropAll = new AtomicInteger();
        List<String> heard = new CopyOnWriteArrayList<>();
        b.onRemoteChange(heard::add, dropAll::incrementAndGet);
        await(() -> b.feed().subscribed());
        int before = dropAll.get();

        r.restart();

        await(() -> dropAll.get() > before);
        await(() -> {
            try {
                a.put(reg("c9", "x", T0)).join();
            } catch (CompletionException notReconnectedYet) {
                return false;
            }
            return heard.contains("c9");
        });
    }

    @Test
    void redisDownAtStartKeepsWritesInTheOutboxAndReplaysThemWhenItComes() throws Exception {
        int port = RedisServer.freePort();
        RedisRegistrationStore s = store("redis://127.0.0.1:" + port, dir.resolve("outbox"));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        s.bindTo(meters);
        Registration x = reg("c1", "a", T0);

        assertThat(s.up()).isFalse();
        assertThat(s.ping()).failsWithin(Duration.ofSeconds(5));
        assertThatThrownBy(() -> s.get("never-seen").join()).hasCauseInstanceOf(StoreException.class);
        s.put(x).join(); // completes: kept on local disk
        assertThat(s.delete("c2").join()).isTrue();
        assertThat(s.pending()).isEqualTo(2);
        assertThat(s.get("c1").join()).contains(x); // read back from the outbox
        assertThat(s.get("c2").join()).isEmpty();
        assertThat(meters.get("scopegate.store.redis.up").gauge().value()).isZero();
        assertThat(meters.get("scopegate.store.redis.deferred.writes").functionCounter().count()).isEqualTo(2);

        RedisServer r = later(RedisServer.startOn(dir.resolve("r"), port));

        await(() -> s.pending() == 0 && s.up());
        assertThat(r.command("HGET", "t:client:c1", "doc")).isEqualTo(RegistrationJson.toJson(x));
        assertThat(s.get("c1").join()).contains(x);
        assertThat(meters.get("scopegate.store.redis.replayed.writes").functionCounter().count()).isEqualTo(2);
        assertThat(meters.get("scopegate.store.redis.up").gauge().value()).isEqualTo(1);
        assertThat(s.ping()).succeedsWithin(Duration.ofSeconds(5));
    }

    @Test
    void keptWritesSurviveARestartOfTheGatewayAndAreReplayedByTheNextOne() throws Exception {
        int port = RedisServer.freePort();
        Path outbox = dir.resolve("outbox");
        Registration x = reg("c1", "a", T0);
        RedisRegistrationStore first = new RedisRegistrationStore(new RedisRegistrationStore.Settings(
                "redis://127.0.0.1:" + port, "t:", TTL, Duration.ofMinutes(10), Duration.ofMillis(100), outbox),
                Clock.systemUTC());
        first.put(x).join();
        first.close();

        RedisServer r = later(RedisServer.startOn(dir.resolve("r"), port));
        RedisRegistrationStore second = store(r.uri(), outbox);

        await(() -> second.pending() == 0);
        assertThat(r.command("HGET", "t:client:c1", "doc")).isEqualTo(RegistrationJson.toJson(x));
    }

    @Test
    void aLiveWriteSupersedesAKeptOne() throws Exception {
        int port = RedisServer.freePort();
        RedisRegistrationStore s = store("redis://127.0.0.1:" + port, dir.resolve("outbox"));
        s.put(reg("c1", "old", T0)).join();
        assertThat(s.pending()).isEqualTo(1);
        RedisServer r = later(RedisServer.startOn(dir.resolve("r"), port));
        await(s::up);
        Registration newer = reg("c1", "new", T0.plusSeconds(60));

        s.put(newer).join();

        await(() -> s.pending() == 0);
        assertThat(s.get("c1").join()).contains(newer);
        assertThat(r.command("HGET", "t:client:c1", "doc")).isEqualTo(RegistrationJson.toJson(newer));
    }

    @Test
    void withoutAnOutboxAWriteRedisCannotTakeFails() throws Exception {
        RedisRegistrationStore s = store("redis://127.0.0.1:" + RedisServer.freePort(), null);

        assertThatThrownBy(() -> s.put(reg("c1", "a", T0)).join()).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(StoreException.class);
    }

    @Test
    void thePasswordComesFromTheUriAndNeverShowsInMessages() throws Exception {
        RedisServer r = redis("r", "--requirepass", "s3cret-pw");
        RedisRegistrationStore good = store("redis://:s3cret-pw@127.0.0.1:" + r.port(), null);
        good.put(reg("c1", "a", T0)).join();
        assertThat(good.get("c1").join()).isPresent();
        assertThat(good.description()).doesNotContain("s3cret-pw");
        assertThat(good.settings().toString()).doesNotContain("s3cret-pw");

        RedisRegistrationStore bad = store("redis://:wrong-pw@127.0.0.1:" + r.port(), null);
        assertThat(bad.up()).isFalse();
        assertThatThrownBy(() -> bad.get("c1").join()).satisfies(e -> assertThat(e.getCause().getMessage())
                .doesNotContain("wrong-pw"));
    }

    @Test
    void thePasswordCanComeFromPasswordFileForAUriWithoutOne() throws Exception {
        RedisServer r = redis("r", "--requirepass", "s3cret-from-file");
        Path secret = java.nio.file.Files.writeString(dir.resolve("redis-password"), "s3cret-from-file\n");
        for (String uri : List.of("redis://127.0.0.1:" + r.port(), "redis://default:@127.0.0.1:" + r.port())) {
            dev.scopegate.config.ScopegateConfig config = new dev.scopegate.config.ConfigLoader(n -> null).parse("""
                    store: {type: redis, path: "%s", redis: {uri: "%s", password-file: "%s"}}
                    """.formatted(dir.resolve("store"), uri, secret), "t.yaml");
            RedisRegistrationStore.Settings settings = RedisRegistrationStore.Settings.from(config).withoutOutbox();
            RedisRegistrationStore s = later(new RedisRegistrationStore(settings, Clock.systemUTC()));

            s.put(reg("c1", "a", T0)).join();
            assertThat(s.get("c1").join()).as(uri).isPresent();
            assertThat(settings.toString()).doesNotContain("s3cret").contains("password=***");
        }
        RedisRegistrationStore unauthenticated = store("redis://127.0.0.1:" + r.port(), null);
        assertThatThrownBy(() -> unauthenticated.get("c1").join()).isInstanceOf(CompletionException.class);
    }

    @Test
    void aServerInClusterModeIsUsedAsACluster() throws Exception {
        RedisServer r = redis("cluster", "--cluster-enabled", "yes", "--cluster-announce-ip", "127.0.0.1",
                "--cluster-config-file", dir.resolve("cluster").resolve("nodes.conf").toString());
        r.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
        await(() -> {
            try {
                return String.valueOf(r.command("CLUSTER", "INFO")).contains("cluster_state:ok");
            } catch (Exception e) {
                return false;
            }
        });
        RedisRegistrationStore a = store(r.uri(), null);
        RedisRegistrationStore b = store(r.uri(), null);
        List<String> heard = new CopyOnWriteArrayList<>();
        b.onRemoteChange(heard::add, () -> { });
        await(() -> b.feed().subscribed());

        assertThat(a.mode()).isEqualTo(RedisConnector.Mode.CLUSTER);
        a.put(reg("c1", "a", T0)).join();
        assertThat(b.get("c1").join()).map(Registration::scope).contains("a");
        assertThat(a.count().join()).isEqualTo(1L);
        await(() -> heard.contains("c1"));
    }

    @Test
    void sentinelUrisFindTheMaster() throws Exception {
        RedisServer master = redis("master");
        RedisServer sentinel = later(RedisServer.startSentinel(dir.resolve("sentinel"), master));
        RedisRegistrationStore s = store("redis-sentinel://127.0.0.1:" + sentinel.port() + "#mymaster", null);

        assertThat(s.mode()).isEqualTo(RedisConnector.Mode.SENTINEL);
        s.put(reg("c1", "a", T0)).join();
        assertThat(master.command("HGET", "t:client:c1", "at")).isNotNull();
        assertThat(s.get("c1").join()).map(Registration::clientId).isEqualTo(Optional.of("c1"));
    }
}
