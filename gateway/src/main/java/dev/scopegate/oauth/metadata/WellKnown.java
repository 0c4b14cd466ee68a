package dev.scopegate.oauth.metadata;

import java.net.URI;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where metadata documents live for an issuer: the locations scopegate fetches from the IdP and
 * the request paths it answers clients on. Pure functions.
 */
final class WellKnown {

    static final String OAUTH = "/.well-known/oauth-authorization-server";
    static final String OIDC = "/.well-known/openid-configuration";

    /** The two documents scopegate caches. */
    enum Kind { OAUTH, OIDC }

    private WellKnown() {
    }

    /**
     * The issuer path as it is inserted into well-known URLs: {@code ""} for none, otherwise
     * starting with {@code /} and without the terminating {@code /} (RFC 8414 §3.1).
     */
    static String normalizeIssuerPath(/* nullable */ String path) {
        if (path == null) {
            return "";
        }
        String p = path.strip();
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty()) {
            return "";
        }
        return p.startsWith("/") ? p : "/" + p;
    }

    /** The normalized raw path of {@code uri}; {@code ""} for null, no path or an unparseable URI. */
    static String issuerPathOf(/* nullable */ String uri) {
        if (uri == null) {
            return "";
        }
        try {
            return normalizeIssuerPath(URI.create(uri).getRawPath());
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    /**
     * Paths to try, in order, on the IdP for {@code kind}: RFC 8414 §3.1 path insertion for OAuth;
     * for OpenID both the OIDC Discovery form ({@code {path}/.well-known/openid-configuration})
     * and the RFC 8414 §5 insertion form.
     */
    static List<String> fetchPaths(Kind kind, String issuerPath) {
        if (kind == Kind.OAUTH) {
            return List.of(OAUTH + issuerPath);
        }
        return issuerPath.isEmpty() ? List.of(OIDC) : List.of(issuerPath + OIDC, OIDC + issuerPath);
    }

    /**
     * Every request path a client may use to ask for a document of an issuer with one of
     * {@code issuerPaths} (normalized): the root forms, the path-inserted forms and the OIDC
     * appended form.
     */
    static Map<String, Kind> servedPaths(Collection<String> issuerPaths) {
        Map<String, Kind> paths = new LinkedHashMap<>();
        paths.put(OAUTH, Kind.OAUTH);
        paths.put(OIDC, Kind.OIDC);
        for (String p : issuerPaths) {
            if (!p.isEmpty()) {
                paths.put(OAUTH + p, Kind.OAUTH);
                paths.put(OIDC + p, Kind.OIDC);
                paths.put(p + OIDC, Kind.OIDC);
            }
        }
        return Map.copyOf(paths);
    }
}
