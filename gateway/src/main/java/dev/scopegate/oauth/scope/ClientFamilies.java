package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Names the client family of a request by its {@code redirect_uri} host ({@code scope.families}):
 * a metric label that never carries a {@code client_id}. A family rule is an exact host or
 * {@code *.suffix}, which matches every subdomain of {@code suffix} but not {@code suffix}
 * itself; matching is case-insensitive and ignores a trailing dot. The first family with a
 * matching rule wins.
 *
 * <p>The host is parsed by hand, without {@link java.net.URI}: no exception and no allocation on
 * any input; anything that is not a plain {@code scheme://[userinfo@]host[:port]…} URI is
 * {@value #OTHER}. A backslash ends the authority, as browsers do for {@code http(s)}, so
 * {@code https://evil.example\@chatgpt.com/} is not {@code chatgpt.com}.
 *
 * <p>Immutable; safe for any thread.
 */
public final class ClientFamilies {

    /** The label for a {@code redirect_uri} no family claims (or no parsable host). */
    public static final String OTHER = "other";

    private final ScopegateConfig.Family[] families;
    private final HostRule[][] rules;
    /**
     * Recent answers by the identity of the {@code redirect_uri} asked about: a client's repeated
     * requests bring the same string (from the {@code ParamCache}), and each request asks twice
     * (the decision, then the metric and audit label). Direct-mapped; racy reads are safe (entries
     * are immutable). Only an identical string is ever answered from here.
     */
    private final Found[] recent = new Found[64];

    private record Found(String redirectUri, ScopegateConfig.Family family) {}

    public ClientFamilies(List<ScopegateConfig.Family> families) {
        Objects.requireNonNull(families, "families");
        this.families = families.toArray(new ScopegateConfig.Family[0]);
        this.rules = new HostRule[this.families.length][];
        for (int f = 0; f < this.families.length; f++) {
            List<String> hosts = this.families[f].redirectHosts();
            rules[f] = new HostRule[hosts.size()];
            for (int h = 0; h < hosts.size(); h++) {
                rules[f][h] = new HostRule(hosts.get(h));
            }
        }
    }

    /** The family name for {@code redirectUri}, or {@value #OTHER}; {@code redirectUri} may be null or garbage. */
    public String familyOf(String redirectUri) {
        ScopegateConfig.Family f = find(redirectUri);
        return f == null ? OTHER : f.name();
    }

    /** The first family whose rule matches the host of {@code redirectUri}, or null. */
    ScopegateConfig.Family find(String redirectUri) {
        if (redirectUri == null || families.length == 0) {
            return null;
        }
        int slot = System.identityHashCode(redirectUri) & (recent.length - 1);
        Found f = recent[slot];
        if (f != null && f.redirectUri == redirectUri) {
            return f.family;
        }
        ScopegateConfig.Family family = match(redirectUri);
        recent[slot] = new Found(redirectUri, family);
        return family;
    }

    private ScopegateConfig.Family match(String redirectUri) {
        long range = hostRange(redirectUri);
        if (range < 0) {
            return null;
        }
        int from = (int) (range >>> 32);
        int to = (int) range;
        for (int f = 0; f < families.length; f++) {
            for (HostRule r : rules[f]) {
                if (r.matches(redirectUri, from, to)) {
                    return families[f];
                }
            }
        }
        return null;
    }

    /**
     * The host of {@code uri} as {@code from << 32 | to}, or -1 when {@code uri} has none we trust.
     * The host is a DNS-ish name ({@code [A-Za-z0-9._-]}, trailing dot dropped) or a bracketed IP
     * literal; a port must be digits.
     */
    static long hostRange(String uri) {
        if (uri == null) {
            return -1;
        }
        int n = uri.length();
        if (n == 0 || !ErrorRedirects.isAlpha(uri.charAt(0))) {
            return -1;
        }
        int i = 1;
        while (i < n && ErrorRedirects.isSchemeChar(uri.charAt(i))) {
            i++;
        }
        if (i + 2 >= n || uri.charAt(i) != ':' || uri.charAt(i + 1) != '/' || uri.charAt(i + 2) != '/') {
            return -1;
        }
        int authStart = i + 3;
        int authEnd = authStart;
        while (authEnd < n) {
            char c = uri.charAt(authEnd);
            if (c == '/' || c == '?' || c == '#' || c == '\\') {
                break;
            }
            authEnd++;
        }
        int hostStart = authStart;
        for (int k = authEnd - 1; k >= authStart; k--) {
            if (uri.charAt(k) == '@') {
                hostStart = k + 1;
                break;
            }
        }
        if (hostStart >= authEnd) {
            return -1;
        }
        int hostEnd;
        if (uri.charAt(hostStart) == '[') {
            hostEnd = hostStart + 1;
            while (hostEnd < authEnd && uri.charAt(hostEnd) != ']') {
                char c = uri.charAt(hostEnd);
                if (!(isHexDigit(c) || c == ':' || c == '.')) {
                    return -1;
                }
                hostEnd++;
            }
            if (hostEnd == authEnd || hostEnd == hostStart + 1) {
                return -1;
            }
            hostEnd++; // keep the brackets: rules name IP literals as "[::1]"
        } else {
            hostEnd = hostStart;
            while (hostEnd < authEnd && uri.charAt(hostEnd) != ':') {
                char c = uri.charAt(hostEnd);
                if (!(ErrorRedirects.isAlpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                    return -1;
                }
                hostEnd++;
            }
        }
        if (hostEnd < authEnd) {
            if (uri.charAt(hostEnd) != ':') {
                return -1;
            }
            for (int k = hostEnd + 1; k < authEnd; k++) {
                char c = uri.charAt(k);
                if (c < '0' || c > '9') {
                    return -1;
                }
            }
        }
        if (hostEnd > hostStart && uri.charAt(hostEnd - 1) == '.') {
            hostEnd--;
        }
        if (hostEnd == hostStart) {
            return -1;
        }
        return ((long) hostStart << 32) | hostEnd;
    }

    private static boolean isHexDigit(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** One {@code redirect-hosts} entry, normalized to lower case without a trailing dot. */
    private static final class HostRule {
        private final String host;      // exact host, or the suffix with its leading dot
        private final boolean suffix;

        HostRule(String rule) {
            String r = rule.strip().toLowerCase(Locale.ROOT);
            if (r.endsWith(".")) {
                r = r.substring(0, r.length() - 1);
            }
            this.suffix = r.startsWith("*.");
            this.host = suffix ? r.substring(1) : r;
        }

        boolean matches(String uri, int from, int to) {
            int len = to - from;
            if (suffix) {
                // at least one label before the suffix: "*.a.com" matches "x.a.com", not "a.com"
                return len > host.length() && uri.regionMatches(true, to - host.length(), host, 0, host.length());
            }
            return len == host.length() && !host.isEmpty() && uri.regionMatches(true, from, host, 0, len);
        }
    }
}
