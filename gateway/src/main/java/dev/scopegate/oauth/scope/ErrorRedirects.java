package dev.scopegate.oauth.scope;

import java.nio.charset.StandardCharsets;

/** Builds RFC 6749 §4.1.2.1 error redirects. Stateless; any thread. */
final class ErrorRedirects {

    /** Upper-case hex, as RFC 3986 §2.1 recommends. */
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private ErrorRedirects() {}

    /**
     * {@code redirectUri} plus {@code ?} (or {@code &} when it already has a query) plus
     * {@code error}, {@code error_description}, {@code state} (when non-null) and {@code iss} (when
     * non-null), every value percent-encoded as UTF-8 with only unreserved characters left bare.
     * {@code redirectUri} must carry no fragment.
     */
    static Rejection.Redirect redirect(String redirectUri, String error, String description, String state,
                                       String iss) {
        StringBuilder b = new StringBuilder(redirectUri.length() + 96
                + (state == null ? 0 : state.length() * 3) + (iss == null ? 0 : iss.length() * 3));
        b.append(redirectUri);
        char last = redirectUri.isEmpty() ? 0 : redirectUri.charAt(redirectUri.length() - 1);
        if (redirectUri.indexOf('?') < 0) {
            b.append('?');
        } else if (last != '?' && last != '&') {
            b.append('&');
        }
        b.append("error=");
        encode(b, error);
        b.append("&error_description=");
        encode(b, description);
        if (state != null) {
            b.append("&state=");
            encode(b, state);
        }
        if (iss != null) {
            b.append("&iss=");
            encode(b, iss);
        }
        return new Rejection.Redirect(b.toString());
    }

    static void encode(StringBuilder b, String value) {
        for (byte x : value.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                b.append((char) c);
            } else {
                b.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
    }

    /**
     * Whether {@code uri} is safe to send a browser to: it has a scheme and the scheme is not one
     * that runs or embeds content ({@code javascript:}, {@code data:}, {@code vbscript:},
     * {@code file:}), and it has no fragment (the error parameters must go in the query).
     */
    static boolean redirectable(String uri) {
        int n = uri.length();
        if (n == 0 || !isAlpha(uri.charAt(0)) || uri.indexOf('#') >= 0) {
            return false;
        }
        int i = 1;
        while (i < n && isSchemeChar(uri.charAt(i))) {
            i++;
        }
        if (i >= n || uri.charAt(i) != ':') {
            return false;
        }
        return !(schemeIs(uri, i, "javascript") || schemeIs(uri, i, "data")
                || schemeIs(uri, i, "vbscript") || schemeIs(uri, i, "file"));
    }

    private static boolean schemeIs(String uri, int schemeEnd, String scheme) {
        return schemeEnd == scheme.length() && uri.regionMatches(true, 0, scheme, 0, schemeEnd);
    }

    static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    static boolean isSchemeChar(char c) {
        return isAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    }
}
