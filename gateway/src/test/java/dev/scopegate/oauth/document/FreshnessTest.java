package dev.scopegate.oauth.document;

import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.oauth.HttpFetcher;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FreshnessTest {

    private static final Duration MIN = Duration.ofMinutes(1);
    private static final Duration MAX = Duration.ofHours(1);
    private static final Duration DEFAULT = Duration.ofMinutes(5);

    @Test
    void readsMaxAgeAmongOtherDirectives() {
        assertThat(ttl(Map.of("cache-control", List.of("public, Max-Age=600, must-revalidate")))).hasSeconds(600);
        assertThat(ttl(Map.of("cache-control", List.of("public", "max-age=\"300\"")))).hasSeconds(300);
    }

    @Test
    void clampsAndFallsBack() {
        assertThat(ttl(Map.of("cache-control", List.of("max-age=0")))).isEqualTo(MIN);
        assertThat(ttl(Map.of("cache-control", List.of("max-age=99999999999")))).isEqualTo(MAX);
        assertThat(ttl(Map.of("cache-control", List.of("max-age=-5")))).isEqualTo(DEFAULT);
        assertThat(ttl(Map.of("cache-control", List.of("max-age=abc")))).isEqualTo(DEFAULT);
        assertThat(ttl(Map.of())).isEqualTo(DEFAULT);
    }

    @Test
    void noStoreWinsAndNoCacheGetsTheFloor() {
        assertThat(ttl(Map.of("cache-control", List.of("max-age=600, no-store")))).isZero();
        assertThat(ttl(Map.of("cache-control", List.of("NO-STORE")))).isZero();
        assertThat(ttl(Map.of("cache-control", List.of("no-cache, max-age=600")))).isEqualTo(MIN);
    }

    @Test
    void subtractsAge() {
        assertThat(ttl(Map.of("cache-control", List.of("max-age=600"), "age", List.of("480")))).hasSeconds(120);
        assertThat(ttl(Map.of("cache-control", List.of("max-age=600"), "age", List.of("900")))).isEqualTo(MIN);
    }

    private static Duration ttl(Map<String, List<String>> headers) {
        return Freshness.of(new HttpFetcher.Response(200, headers, new byte[0]), MIN, MAX, DEFAULT);
    }
}
