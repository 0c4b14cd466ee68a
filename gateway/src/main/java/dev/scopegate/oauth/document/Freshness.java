package dev.scopegate.oauth.document;

import dev.scopegate.oauth.HttpFetcher;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How long a fetched document may be reused, from its {@code Cache-Control} (and {@code Age})
 * response headers. {@code Expires} is ignored. Pure.
 */
final class Freshness {

    private Freshness() {
    }

    /**
     * The time to keep a 200 response: {@code Duration.ZERO} for {@code no-store}; otherwise
     * {@code max-age} minus {@code Age}, clamped to [{@code min}, {@code max}]; {@code fallback}
     * when there is no usable {@code max-age}. {@code no-cache} means "revalidate each time", which
     * scopegate cannot do, so it gets {@code min}: a floor protects the origin.
     */
    static Duration of(HttpFetcher.Response response, Duration min, Duration max, Duration fallback) {
        List<String> values = response.headers().getOrDefault("cache-control", List.of());
        Long maxAge = null;
        boolean noCache = false;
        for (String value : values) {
            for (String directive : value.split(",")) {
                String d = directive.trim().toLowerCase(Locale.ROOT);
                if (d.equals("no-store")) {
                    return Duration.ZERO;
                } else if (d.equals("no-cache")) {
                    noCache = true;
                } else if (d.startsWith("max-age=")) {
                    Long seconds = seconds(d.substring("max-age=".length()));
                    if (seconds != null && maxAge == null) {
                        maxAge = seconds;
                    }
                }
            }
        }
        if (noCache) {
            return min;
        }
        if (maxAge == null) {
            return fallback;
        }
        Long age = seconds(response.header("age"));
        long remaining = maxAge - (age == null ? 0 : age);
        Duration ttl = Duration.ofSeconds(Math.max(0, remaining));
        return ttl.compareTo(min) < 0 ? min : ttl.compareTo(max) > 0 ? max : ttl;
    }

    private static Long seconds(String text) {
        if (text == null) {
            return null;
        }
        String s = text.trim();
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            s = s.substring(1, s.length() - 1);
        }
        if (s.isEmpty() || s.length() > 12 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        return Long.parseLong(s);
    }
}
