package dev.scopegate.oauth;

/**
 * {@code compat.resource-parameter}: removes, or renames to {@code audience}, the RFC 8707
 * {@code resource} parameters of a query or form body, for an IdP that refuses them (Entra and
 * others reject unknown parameters; Auth0 wants {@code audience}).
 *
 * <p>Byte-preserving, in the input model of {@link ParamCodec} (one char per byte): a parameter is
 * a {@code resource} when its name <em>decodes</em> to exactly {@code resource} (so
 * {@code %72esource} is one too, as the IdP would read it; {@code resources},
 * {@code resource_x} or {@code Resource} are not). The other segments between {@code &}s —
 * empty ones included — come out as they came, in their order, joined by one {@code &} each.
 * Renaming replaces only the name: {@code resource=V} becomes {@code audience=V} with V's bytes as
 * they came. Nothing is decoded or re-encoded.
 *
 * <p>Stateless; safe from any thread.
 */
public final class ResourceParameters {

    private ResourceParameters() {
    }

    /**
     * {@code raw} with every {@code resource} parameter of {@code raw[from, end)} removed; null
     * when there is none (nothing to change). {@code raw} outside the range is kept.
     */
    public static /* nullable */ String strip(String raw, int from, int end) {
        return rewrite(raw, from, end, false);
    }

    /**
     * {@code raw} with the first {@code resource} parameter of {@code raw[from, end)} renamed to
     * {@code audience} and the others removed — or, when an {@code audience} parameter is already
     * there, every {@code resource} removed (the client's own {@code audience} wins); null when
     * there is no {@code resource}. Repeated {@code resource}s (RFC 8707 allows several) become
     * one {@code audience}, the first: Auth0 takes a single audience.
     */
    public static /* nullable */ String toAudience(String raw, int from, int end) {
        return rewrite(raw, from, end, true);
    }

    private static String rewrite(String raw, int from, int end, boolean audience) {
        boolean found = false;
        boolean audiencePresent = false;
        for (int s = from; s <= end; ) {
            int e = segmentEnd(raw, s, end);
            int eq = nameEnd(raw, s, e);
            if (e > s) {
                found |= ParamCodec.decodedEquals(raw, s, eq, OAuthParams.RESOURCE);
                audiencePresent |= audience && ParamCodec.decodedEquals(raw, s, eq, OAuthParams.AUDIENCE);
            }
            s = e + 1;
        }
        if (!found) {
            return null;
        }
        boolean rename = audience && !audiencePresent;
        StringBuilder out = new StringBuilder(raw.length() + 8).append(raw, 0, from);
        boolean first = true;
        for (int s = from; s <= end; ) {
            int e = segmentEnd(raw, s, end);
            int eq = nameEnd(raw, s, e);
            boolean resource = e > s && ParamCodec.decodedEquals(raw, s, eq, OAuthParams.RESOURCE);
            if (!resource || rename) {
                if (!first) {
                    out.append('&');
                }
                first = false;
                if (resource) {
                    out.append(OAuthParams.AUDIENCE).append(raw, eq, e);
                    rename = false; // only the first one
                } else {
                    out.append(raw, s, e);
                }
            }
            s = e + 1;
        }
        return out.append(raw, end, raw.length()).toString();
    }

    private static int segmentEnd(String raw, int s, int end) {
        int e = raw.indexOf('&', s);
        return e < 0 || e > end ? end : e;
    }

    private static int nameEnd(String raw, int s, int e) {
        int eq = s;
        while (eq < e && raw.charAt(eq) != '=') {
            eq++;
        }
        return eq;
    }
}
