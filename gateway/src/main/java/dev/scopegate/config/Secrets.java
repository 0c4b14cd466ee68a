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
        String userInfo = userInfo(uri);
        if (userInfo == null) {
            return uri;
        }
        int start = uri.indexOf("://") < 0 ? 0 : uri.indexOf("://") + 3;
        return uri.substring(0, start) + MASK + uri.substring(start + userInfo.length());
    }

    /**
     * Whether a Redis URI names a password, as Lettuce reads its user info: {@code pw@},
     * {@code :pw@} and {@code user:pw@} do; {@code user:@} (a user name alone) and no user info do not.
     */
    static boolean hasPassword(String uri) {
        String userInfo = userInfo(uri);
        if (userInfo == null || userInfo.isEmpty()) {
            return false;
        }
        int colon = userInfo.indexOf(':');
        return colon < 0 || colon < userInfo.length() - 1;
    }

    /** The user info of {@code scheme://userinfo@host…} without its {@code @}; null when there is none. */
    private static String userInfo(String uri) {
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
        return at < start ? null : uri.substring(start, at);
    }
}
