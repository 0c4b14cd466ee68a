package dev.scopegate.config;

/** Keeps credentials embedded in config values out of toString and error messages. Stateless. */
final class Secrets {

    static final String MASK = "***";

    private Secrets() {
    }

    /** {@code redis://user:pw@host:6379} becomes {@code redis://***@host:6379}; other text is unchanged. */
    static String maskUserInfo(String uri) {
        if (uri == null) {
            return null;
        }
        int scheme = uri.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int end = uri.length();
        for (int i = start; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '/' || c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        int at = uri.lastIndexOf('@', end - 1);
        if (at < start) {
            return uri;
        }
        return uri.substring(0, start) + MASK + uri.substring(at);
    }
}
