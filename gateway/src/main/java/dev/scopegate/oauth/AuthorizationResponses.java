package dev.scopegate.oauth;

/**
 * Reading and amending the {@code Location} of an authorization response (RFC 6749 §4.1.2,
 * §4.1.2.1): the redirect of the user agent back to the client's {@code redirect_uri}, its
 * parameters in the query (response mode {@code query}) or in the fragment (response mode
 * {@code fragment}). Pure and stateless; thread-safe.
 *
 * <p>A {@code Location} is an authorization response when the part that holds its parameters
 * (the fragment if it has one with parameters, else the query) has a {@code code} or an
 * {@code error} parameter. Whose response it is, a caller decides by comparing its target with a
 * redirect URI ({@link #targets}).
 */
public final class AuthorizationResponses {

    private AuthorizationResponses() {
    }

    /**
     * The range {@code [from, to)} of {@code location} holding the response parameters, as
     * {@code from << 32 | to}; -1 when {@code location} has neither query nor fragment.
     */
    static long paramsRange(String location) {
        int hash = location.indexOf('#');
        if (hash >= 0 && hash + 1 < location.length()) {
            Params fragment = ParamCodec.parse(location.substring(hash + 1));
            if (fragment.count(OAuthParams.CODE) > 0 || fragment.count(OAuthParams.ERROR) > 0) {
                return (long) (hash + 1) << 32 | location.length();
            }
        }
        int q = location.indexOf('?');
        if (q < 0 || hash >= 0 && q > hash) {
            return -1;
        }
        return (long) (q + 1) << 32 | (hash < 0 ? location.length() : hash);
    }

    private static Params params(String location) {
        long range = paramsRange(location);
        return range < 0 ? null : ParamCodec.parse(location.substring((int) (range >>> 32), (int) range));
    }

    /** The decoded response parameter {@code name} (query or fragment, see the class), or null. */
    public static /* nullable */ String param(String location, String name) {
        long range = location == null ? -1 : paramsRange(location);
        // Params.first without building the Params: nothing allocated when there is no such name.
        return range < 0 ? null : AuthorizationParams.first(location, (int) (range >>> 32), (int) range, name);
    }

    /** Whether {@code location} is an authorization response: it carries {@code code} or {@code error}. */
    public static boolean isResponse(String location) {
        Params p = location == null ? null : params(location);
        return p != null && (p.count(OAuthParams.CODE) > 0 || p.count(OAuthParams.ERROR) > 0);
    }

    /**
     * Whether {@code location} goes to {@code redirectUri}: it is that URI exactly, followed by its
     * response parameters (a {@code ?}, or {@code &} when the redirect URI has a query of its own,
     * or a {@code #}). Exact string comparison, as RFC 6749 §3.1.2.3 compares redirect URIs.
     */
    public static boolean targets(String location, /* nullable */ String redirectUri) {
        if (location == null || redirectUri == null || redirectUri.isEmpty() || !location.startsWith(redirectUri)) {
            return false;
        }
        if (location.length() == redirectUri.length()) {
            return true;
        }
        char next = location.charAt(redirectUri.length());
        return next == '#' || next == (redirectUri.indexOf('?') >= 0 ? '&' : '?');
    }

    /**
     * The part of {@code location} a redirect URI is compared with: everything before its query
     * or fragment. For an IdP that redirects to a URI with a query of its own, callers compare
     * with {@link #targets} instead.
     */
    public static String target(String location) {
        int end = location.length();
        int q = location.indexOf('?');
        int hash = location.indexOf('#');
        if (q >= 0) {
            end = q;
        }
        if (hash >= 0 && hash < end) {
            end = hash;
        }
        return location.substring(0, end);
    }

    /**
     * {@code location} with {@code iss=<issuer>} (RFC 9207 §2, form-urlencoded) appended to its
     * response parameters, in the query or the fragment where they are; every other char kept.
     * Null when {@code location} is not an authorization response or already has {@code iss}.
     */
    public static /* nullable */ String withIss(String location, String issuer) {
        if (location == null || issuer == null || issuer.isEmpty()) {
            return null;
        }
        long range = paramsRange(location);
        if (range < 0) {
            return null;
        }
        int from = (int) (range >>> 32);
        int to = (int) range;
        Params p = ParamCodec.parse(location.substring(from, to));
        if (p.count(OAuthParams.CODE) == 0 && p.count(OAuthParams.ERROR) == 0 || p.count(OAuthParams.ISS) > 0) {
            return null;
        }
        StringBuilder out = new StringBuilder(location.length() + 8 + issuer.length() * 2);
        out.append(location, 0, to);
        if (to > from && location.charAt(to - 1) != '&') {
            out.append('&');
        }
        out.append(OAuthParams.ISS).append('=');
        ParamCodec.appendEncoded(out, issuer);
        return out.append(location, to, location.length()).toString();
    }
}
