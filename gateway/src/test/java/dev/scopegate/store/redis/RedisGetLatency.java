package dev.scopegate.store.redis;

import dev.scopegate.model.Registration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * Not a test: measures what a registration-cache miss served from Redis adds, i.e. the latency of
 * {@link RedisRegistrationStore#get} (HGET + PEXPIRE pipelined, JSON decode) against a
 * {@code redis-server} of its own on loopback. One get at a time, after a warm-up.
 *
 * <pre>
 * mvn -o -q -pl gateway test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp gateway/target/test-classes:gateway/target/classes:$(cat /tmp/cp.txt) \
 *     dev.scopegate.store.redis.RedisGetLatency [gets]
 * </pre>
 */
public final class RedisGetLatency {

    private RedisGetLatency() {
    }

    public static void main(String[] args) throws Exception {
        int gets = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Path dir = Files.createTempDirectory("redis-latency");
        try (RedisServer redis = RedisServer.start(dir);
             RedisRegistrationStore store = new RedisRegistrationStore(new RedisRegistrationStore.Settings(redis.uri(),
                     "bench:", Duration.ofDays(30), Duration.ofMinutes(10), Duration.ofSeconds(2), null),
                     Clock.systemUTC())) {
            Instant now = Instant.now();
            int clients = 100;
            for (int i = 0; i < clients; i++) {
                store.put(new Registration("client-" + i, "worker:read time-off:read time-off:write contracts:read people:read",
                        List.of("https://chatgpt.com/connector_platform_oauth_redirect"),
                        List.of("authorization_code", "refresh_token"), "ChatGPT",
                        "https://idp.example/oauth/register/client-" + i, null, now, now)).join();
            }
            for (int i = 0; i < 2_000; i++) {
                store.get("client-" + (i % clients)).join();
            }
            long[] nanos = new long[gets];
            for (int i = 0; i < gets; i++) {
                long t = System.nanoTime();
                store.get("client-" + (i % clients)).join();
                nanos[i] = System.nanoTime() - t;
            }
            Arrays.sort(nanos);
            System.out.printf("RedisRegistrationStore.get, %d sequential gets on loopback: p50 %.1f us, p99 %.1f us, "
                            + "p99.9 %.1f us, max %.1f us%n", gets, nanos[gets / 2] / 1e3, nanos[(int) (gets * 0.99)] / 1e3,
                    nanos[(int) (gets * 0.999)] / 1e3, nanos[gets - 1] / 1e3);
        }
    }
}
