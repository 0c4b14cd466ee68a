package dev.scopegate.oauth.document;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Syntax rules for a {@code client_id} that is a Client ID Metadata Document URL
 * (draft-ietf-oauth-client-id-metadata-document §3): https scheme, a path, no dot segments, no
 * fragment, no user info. Pure.
 */
final class ClientIdUrls {

    private static final Pattern DOTTED_QUAD =
            Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");

    private ClientIdUrls() {
    }

    /**
     * A URL that passed the syntax rules.
     *
     * @param uri     the parsed client_id
     * @param literal the address when the host is an IP literal (no DNS needed), else null
     */
    record Target(URI uri, InetAddress literal) {}

    /** A client_id meant as a document URL: it starts with {@code https://} or {@code http://}. */
    static boolean looksLikeUrl(String clientId) {
        return clientId != null
                && (clientId.regionMatches(true, 0, "https://", 0, 8) || clientId.regionMatches(true, 0, "http://", 0, 7));
    }

    /**
     * The target of {@code clientId}, or an {@link IllegalArgumentException} whose message is the
     * reason it may not be fetched. {@code allowHttp} admits plain http (tests only).
     */
    static Target check(String clientId, boolean allowHttp) {
        URI uri;
        try {
            uri = new URI(clientId);
        } catch (Exception e) {
            throw new IllegalArgumentException("not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !(allowHttp && scheme.equals("http"))) {
            throw new IllegalArgumentException("scheme is not https");
        }
        if (uri.isOpaque() || uri.getRawAuthority() == null) {
            throw new IllegalArgumentException("no authority");
        }
        if (uri.getRawAuthority().indexOf('@') >= 0) {
            throw new IllegalArgumentException("has user info");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("host is not a valid host name");
        }
        if (uri.getRawFragment() != null) {
            throw new IllegalArgumentException("has a fragment");
        }
        String path = uri.getRawPath();
        if (path == null || path.isEmpty()) {
            throw new IllegalArgumentException("has no path");
        }
        for (String segment : path.split("/", -1)) {
            String s = segment.replace("%2e", ".").replace("%2E", ".");
            if (s.equals(".") || s.equals("..")) {
                throw new IllegalArgumentException("has a dot segment");
            }
        }
        return new Target(uri, literal(uri.getHost()));
    }

    /**
     * The address an IP-literal host denotes, null for a DNS name. Numeric hosts other than a plain
     * dotted quad ({@code 127.1}, {@code 0177.0.0.1}, {@code 2130706433}, {@code 1.2.3.4.5}) are
     * rejected: resolvers disagree on what they mean.
     */
    private static InetAddress literal(String host) {
        if (host.startsWith("[")) {
            try {
                return InetAddress.getByName(host.substring(1, host.length() - 1));   // literal: no DNS
            } catch (UnknownHostException | RuntimeException e) {
                throw new IllegalArgumentException("bad IPv6 literal");
            }
        }
        String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String lastLabel = h.substring(h.lastIndexOf('.') + 1);
        if (lastLabel.isEmpty() || !lastLabel.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        if (!DOTTED_QUAD.matcher(h).matches()) {
            throw new IllegalArgumentException("ambiguous numeric host");
        }
        String[] parts = h.split("\\.");
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            bytes[i] = (byte) Integer.parseInt(parts[i]);
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);         // four bytes are always an address
        }
    }
}
