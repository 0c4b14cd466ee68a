package dev.scopegate.oauth.metadata;

import java.net.URI;
import java.util.Locale;

/**
 * The rules by which a discovery request names an issuer scopegate may learn
 * ({@code metadata.issuers}). Pure functions.
 *
 * <p>A request names issuer path {@code P} when its path is
 * {@code /.well-known/oauth-authorization-server P}, {@code /.well-known/openid-configuration P}
 * (RFC 8414 §3.1 insertion) or {@code P /.well-known/openid-configuration} (OIDC Discovery §4).
 * Before anything is fetched for it, {@code P} must be {@linkplain #wellFormed well formed}; the
 * fetched document is accepted only when its {@code issuer} is {@linkplain #expectedIssuer exactly}
 * the public origin followed by {@code P}.
 */
public final class IssuerPaths {

    /** Longest issuer path fetched for. Keycloak realm paths are far shorter. */
    public static final int MAX_LENGTH = 200;
    /** Most segments of an issuer path fetched for. */
    public static final int MAX_SEGMENTS = 8;

    private IssuerPaths() {
    }

    /**
     * The issuer path a discovery request path names, as it was written (not yet checked), or null
     * when the path is none of the three forms or names no path (the root documents).
     */
    public static /* nullable */ String named(String requestPath) {
        String p = null;
        if (requestPath.startsWith(WellKnown.OAUTH)) {
            p = requestPath.substring(WellKnown.OAUTH.length());
        } else if (requestPath.startsWith(WellKnown.OIDC)) {
            p = requestPath.substring(WellKnown.OIDC.length());
        } else if (requestPath.endsWith(WellKnown.OIDC)) {
            p = requestPath.substring(0, requestPath.length() - WellKnown.OIDC.length());
        }
        return p == null || p.isEmpty() || p.charAt(0) != '/' ? null : p;
    }

    /**
     * Whether {@code path} is an issuer path scopegate may fetch for: {@code /seg(/seg)*}, at most
     * {@link #MAX_LENGTH} characters and {@link #MAX_SEGMENTS} segments; each segment one or more
     * unreserved characters (RFC 3986 §2.3) or percent-encoded octets, none of which encodes an
     * unreserved character, {@code /}, {@code \} or a control character (no second spelling of a
     * path); no {@code .} or {@code ..} segment and no {@code .well-known} segment; no empty
     * segment ({@code //}, trailing {@code /}).
     */
    public static boolean wellFormed(/* nullable */ String path) {
        if (path == null || path.length() < 2 || path.length() > MAX_LENGTH || path.charAt(0) != '/') {
            return false;
        }
        int segments = 0;
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            if (++segments > MAX_SEGMENTS || !segment(path, start, end)) {
                return false;
            }
            start = end + 1;
        }
        return true;
    }

    private static boolean segment(String path, int from, int to) {
        if (from == to) {
            return false; // empty: "//" or a trailing "/"
        }
        String s = path.substring(from, to);
        if (s.equals(".") || s.equals("..") || s.toLowerCase(Locale.ROOT).equals(".well-known")) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = path.charAt(i);
            if (c == '%') {
                if (i + 2 >= to) {
                    return false;
                }
                int hi = Character.digit(path.charAt(i + 1), 16);
                int lo = Character.digit(path.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return false;
                }
                int octet = hi * 16 + lo;
                if (octet < 0x20 || octet == 0x7F || octet == '/' || octet == '\\' || unreserved((char) octet)) {
                    return false;
                }
                i += 2;
            } else if (!unreserved(c)) {
                return false;
            }
        }
        return true;
    }

    static boolean unreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '-' || c == '.' || c == '_' || c == '~';
    }

    /**
     * The issuer a learned document must name: {@code publicOrigin} (scheme and authority, no
     * path, no trailing slash) followed by {@code issuerPath}, compared as exact strings
     * (RFC 8414 §3.3: "identical").
     */
    public static String expectedIssuer(String publicOrigin, String issuerPath) {
        return publicOrigin + issuerPath;
    }

    /**
     * The origin of {@code uri} as a client of it names it: lower-case scheme, {@code ://}, the
     * authority without user info and without the scheme's default port; null when {@code uri}
     * has no scheme or host.
     */
    public static /* nullable */ String originOf(/* nullable */ URI uri) {
        if (uri == null || uri.getScheme() == null || uri.getRawAuthority() == null) {
            return null;
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        String authority = uri.getRawAuthority();
        authority = authority.substring(authority.lastIndexOf('@') + 1);
        String defaultPort = ":" + (scheme.equals("https") ? 443 : 80);
        if (authority.endsWith(defaultPort)) {
            authority = authority.substring(0, authority.length() - defaultPort.length());
        }
        return authority.isEmpty() ? null : scheme + "://" + authority;
    }

    /** {@link #originOf(URI)} of a URL string; null when it does not parse. */
    public static /* nullable */ String originOf(/* nullable */ String url) {
        if (url == null) {
            return null;
        }
        try {
            return originOf(URI.create(url));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
