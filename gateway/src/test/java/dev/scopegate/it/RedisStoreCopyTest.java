package dev.scopegate.it;

import dev.scopegate.Cli;
import dev.scopegate.model.Registration;
import dev.scopegate.store.RegistrationJson;
import dev.scopegate.store.embedded.SqliteRegistrationStore;
import dev.scopegate.store.redis.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code scopegate.jar store copy}: embedded → Redis → (another) embedded store round-trips. */
class RedisStoreCopyTest {

    static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    @TempDir
    Path dir;
    RedisServer redis;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        RedisServer.assumeInstalled();
        redis = RedisServer.start(dir.resolve("redis"));
    }

    @AfterEach
    void stop() {
        if (redis != null) {
            redis.close();
        }
    }

    Path config(String name, String storePath, String redisUri) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                upstream: {url: "http://127.0.0.1:9"}
                store: {type: embedded, path: "%s", redis: {uri: "%s", key-prefix: "mig:"}}
                """.formatted(dir.resolve(storePath).toString().replace("\\", "/"), redisUri));
        return file;
    }

    int copy(String from, String to, Path config) {
        out.reset();
        err.reset();
        return Cli.execute(new String[]{"store", "copy", "--from", from, "--to", to, "--config", config.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    static List<Registration> sample(int n) {
        List<Registration> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(new Registration("client-" + i, i % 3 == 0 ? null : "worker:read s" + i,
                    List.of("https://chatgpt.com/connector_platform_oauth_redirect"), List.of("authorization_code"),
                    i % 2 == 0 ? "ChatGPT" : null, "https://idp/oauth/register/client-" + i,
                    i % 4 == 0 ? "learned:" + i : null, T0, T0.plusSeconds(i)));
        }
        return all;
    }

    @Test
    void embeddedToRedisAndBackRoundTrips() throws Exception {
        List<Registration> all = sample(1234);
        try (SqliteRegistrationStore source = new SqliteRegistrationStore(dir.resolve("old"))) {
            source.putAll(all).join();
        }

        assertThat(copy("embedded", "redis", config("to-redis", "old", redis.uri()))).as(err.toString()).isZero();
        assertThat(out.toString()).contains("1234 read", "1234 written", "0 kept");
        for (Registration r : List.of(all.get(0), all.get(617), all.get(1233))) {
            assertThat(redis.command("HGET", "mig:client:" + r.clientId(), "doc")).isEqualTo(RegistrationJson.toJson(r));
        }

        assertThat(copy("redis", "embedded", config("back", "new", redis.uri()))).as(err.toString()).isZero();
        assertThat(out.toString()).contains("1234 read", "1234 written");
        try (SqliteRegistrationStore back = new SqliteRegistrationStore(dir.resolve("new"))) {
            assertThat(back.count().join()).isEqualTo(1234L);
            for (Registration r : all) {
                assertThat(back.get(r.clientId()).join()).contains(r);
            }
        }
    }

    @Test
    void anEntryNewerInTheTargetIsKeptAndARerunIsHarmless() throws Exception {
        List<Registration> all = sample(3);
        try (SqliteRegistrationStore source = new SqliteRegistrationStore(dir.resolve("old"))) {
            source.putAll(all).join();
        }
        Registration newer = new Registration("client-1", "changed:since", List.of(), List.of(), null, null, null,
                T0, T0.plusSeconds(3600));
        redis.command("HSET", "mig:client:client-1", "doc", RegistrationJson.toJson(newer),
                "at", Long.toString(newer.updatedAt().toEpochMilli()));
        Path config = config("c", "old", redis.uri());

        assertThat(copy("embedded", "redis", config)).isZero();
        assertThat(out.toString()).contains("3 read", "2 written", "1 kept");
        assertThat(redis.command("HGET", "mig:client:client-1", "doc")).isEqualTo(RegistrationJson.toJson(newer));

        assertThat(copy("embedded", "redis", config)).isZero();
        assertThat(out.toString()).contains("3 read", "2 written", "1 kept");
    }

    @Test
    void usageAndUnreachableRedisFailWithoutTouchingAnything() throws Exception {
        try (SqliteRegistrationStore source = new SqliteRegistrationStore(dir.resolve("old"))) {
            source.putAll(sample(2)).join();
        }

        assertThat(copy("embedded", "embedded", config("same", "old", redis.uri()))).isEqualTo(2);
        assertThat(Cli.execute(new String[]{"store", "copy", "--from", "embedded", "--to"}, new PrintStream(out, true,
                StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))).isEqualTo(2);
        assertThat(copy("embedded", "redis", config("down", "old",
                "redis://:pw-never-printed@127.0.0.1:" + RedisServer.freePort()))).isEqualTo(1);
        assertThat(err.toString()).contains("cannot reach").doesNotContain("pw-never-printed");
        assertThat(copy("embedded", "redis", config("nothing", "missing", redis.uri()))).isEqualTo(1);
        assertThat(err.toString()).contains("no embedded store");
        assertThat(redis.command("DBSIZE")).isEqualTo(0L);
    }
}
