package dev.scopegate.config;

import dev.scopegate.config.YamlNode.Kind;
import dev.scopegate.config.YamlNode.Scalar;
import java.math.BigInteger;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Conversions of one scalar into a typed value, for {@link RecordBinder}: each reports its own
 * error (naming what was expected and what was written) and returns null (or empty) on failure.
 */
final class Values {

    static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

    private final BiFunction<YamlNode, String, String> text;
    private final Problems problems;

    /** @param text the scalar's (interpolated) text, or null (reported) */
    Values(BiFunction<YamlNode, String, String> text, Problems problems) {
        this.text = text;
        this.problems = problems;
    }

    Optional<Long> bounded(YamlNode node, String path, long min, long max) {
        BigInteger value = integer(node, path);
        if (value == null) {
            return Optional.empty();
        }
        if (value.compareTo(BigInteger.valueOf(min)) < 0 || value.compareTo(BigInteger.valueOf(max)) > 0) {
            boolean open = max == Integer.MAX_VALUE || max == Long.MAX_VALUE;
            String rule = !open ? "must be between " + min + " and " + max
                    : value.compareTo(BigInteger.valueOf(min)) < 0 ? "must be at least " + min
                    : "must be at most " + max;
            problems.add(node.mark(), path, rule + ", got " + value);
            return Optional.empty();
        }
        return Optional.of(value.longValue());
    }

    private BigInteger integer(YamlNode node, String path) {
        if (node instanceof Scalar s && s.kind() == Kind.INTEGER && s.integer() != null) {
            return s.integer();
        }
        if (node instanceof Scalar s && s.kind() == Kind.STRING) {
            String t = text.apply(node, path);
            if (t == null) {
                return null;
            }
            try {
                return new BigInteger(t.trim());
            } catch (NumberFormatException e) {
                problems.add(node.mark(), path, "expected a whole number, got '" + t + "'");
                return null;
            }
        }
        problems.add(node.mark(), path, "expected a whole number, got " + describeValue(node));
        return null;
    }

    Boolean bool(YamlNode node, String path) {
        if (node instanceof Scalar s && s.kind() == Kind.BOOLEAN) {
            return s.bool();
        }
        if (node instanceof Scalar s && s.kind() == Kind.STRING) {
            String t = text.apply(node, path);
            if (t == null) {
                return null;
            }
            if (t.trim().equalsIgnoreCase("true")) {
                return true;
            }
            if (t.trim().equalsIgnoreCase("false")) {
                return false;
            }
            problems.add(node.mark(), path, "expected true or false, got '" + t + "'");
            return null;
        }
        problems.add(node.mark(), path, "expected true or false, got " + describeValue(node));
        return null;
    }

    Duration duration(YamlNode node, String path, boolean allowZero) {
        Duration d;
        if (node instanceof Scalar s && s.kind() == Kind.INTEGER && s.integer() != null) {
            if (s.integer().bitLength() > 40) {
                problems.add(node.mark(), path, "duration " + s.integer() + "s is out of range");
                return null;
            }
            d = Duration.ofSeconds(s.integer().longValue());
        } else if (node instanceof Scalar s && s.kind() == Kind.STRING) {
            String t = text.apply(node, path);
            if (t == null) {
                return null;
            }
            d = parseDuration(t.trim(), node, path);
        } else {
            problems.add(node.mark(), path, "expected a duration such as 500ms, 2s, 5m, 1h or 30d, got " + describeValue(node));
            return null;
        }
        if (d == null) {
            return null;
        }
        if (d.isNegative() || (!allowZero && d.isZero())) {
            problems.add(node.mark(), path, "must be " + (allowZero ? "zero or more" : "greater than zero") + ", got " + describeValue(node));
            return null;
        }
        return d;
    }

    private Duration parseDuration(String t, YamlNode node, String path) {
        Matcher m = DURATION.matcher(t);
        if (!m.matches()) {
            problems.add(node.mark(), path, "'" + t + "' is not a duration; write a number and a unit:"
                    + " 500ms, 2s, 5m, 1h, 30d (a bare number means seconds)");
            return null;
        }
        String digits = m.group(1);
        if (digits.length() > 12) {
            problems.add(node.mark(), path, "duration '" + t + "' is out of range");
            return null;
        }
        long n = Long.parseLong(digits);
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    <E extends Enum<E>> E choice(YamlNode node, String path, Class<E> type) {
        String t = text.apply(node, path);
        if (t == null) {
            return null;
        }
        for (E e : type.getEnumConstants()) {
            if (kebab(e).equals(t.trim())) {
                return e;
            }
        }
        problems.add(node.mark(), path, "'" + t + "' is not one of: " + choices(type));
        return null;
    }

    static String kebab(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static String choices(Class<? extends Enum<?>> type) {
        return Arrays.stream(type.getEnumConstants()).map(Values::kebab).collect(Collectors.joining(", "));
    }

    /** An absolute http(s) URL with a host and neither credentials, query nor fragment. */
    URI url(String t, YamlNode node, String path) {
        t = t.trim();
        if (t.isEmpty()) {
            problems.add(node.mark(), path, "must not be empty");
            return null;
        }
        URI uri;
        try {
            uri = new URI(t);
        } catch (URISyntaxException e) {
            problems.add(node.mark(), path, "'" + t + "' is not a valid URL: " + e.getReason());
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        String problem = null;
        if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
            problem = "must be an absolute http:// or https:// URL";
        } else if (uri.getHost() == null || uri.getHost().isEmpty()) {
            problem = "must name a host (host names may use letters, digits, '-' and '.')";
        } else if (uri.getRawUserInfo() != null) {
            problem = "must not carry credentials (user:password@)";
        } else if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            problem = "must not have a query (?…) or fragment (#…)";
        }
        if (problem != null) {
            problems.add(node.mark(), path, problem + ", got '" + Secrets.maskUserInfo(t) + "'");
            return null;
        }
        return uri;
    }

    private static String describeValue(YamlNode node) {
        return node instanceof Scalar s ? "'" + s.text() + "'" : YamlNode.describe(node);
    }

    /** {@code "; did you mean 'x'?"} for a typo such as connect_timeout or conect-timeout, else empty. */
    static String suggestion(String key, Collection<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String candidate : known) {
            int d = distance(key.toLowerCase(Locale.ROOT).replace('_', '-'), candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best == null ? "" : "; did you mean '" + best + "'?";
    }

    /** Levenshtein distance. */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
