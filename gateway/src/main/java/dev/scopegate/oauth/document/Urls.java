package dev.scopegate.oauth.document;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** URL helpers shared by the fetchers. Pure. */
final class Urls {

    private Urls() {
    }

    /** {@code text} as an absolute hierarchical http(s) URI with a host and no user info, or null. */
    static URI parseHttp(String text) {
        if (text == null) {
            return null;
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            return null;
        }
        String scheme = uri.getScheme();
        if (scheme == null || uri.isOpaque() || uri.getHost() == null || uri.getRawAuthority() == null
                || uri.getRawAuthority().indexOf('@') >= 0) {
            return null;
        }
        String s = scheme.toLowerCase(Locale.ROOT);
        return s.equals("https") || s.equals("http") ? uri : null;
    }

    /**
     * {@code scheme://host[:port]} in lower case with the scheme's default port left out, the form
     * origins are compared in; null when {@code text} is not an http(s) URL.
     */
    static String origin(String text) {
        URI uri = parseHttp(text);
        return uri == null ? null : origin(uri);
    }

    static String origin(URI uri) {
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        boolean defaultPort = port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80);
        return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
    }

    /** The raw path and query of {@code uri} as they follow the authority, "/" standing for an empty path. */
    static String pathAndQuery(URI uri) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        return uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    }

    /**
     * {@code text} made safe for a log line: control characters become '?', and it is cut at 200
     * characters. A client chooses these strings; it must not be able to forge log lines.
     */
    static String forLog(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(Math.min(text.length(), 201));
        for (int i = 0; i < text.length() && i < 200; i++) {
            char c = text.charAt(i);
            b.append(Character.isISOControl(c) || Character.getType(c) == Character.LINE_SEPARATOR
                    || Character.getType(c) == Character.PARAGRAPH_SEPARATOR ? '?' : c);
        }
        return text.length() > 200 ? b.append('…').toString() : b.toString();
    }
}
