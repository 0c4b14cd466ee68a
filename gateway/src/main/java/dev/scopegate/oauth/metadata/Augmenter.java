package dev.scopegate.oauth.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.scopegate.config.ScopegateConfig;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code metadata.augment}: decides the bytes clients are served for a metadata document. When
 * nothing changes, the IdP's exact bytes; otherwise the document re-serialized (member order kept)
 * with {@code scopes_supported} and {@code code_challenge_methods_supported} added where missing
 * and/or the upstream origin in URL values replaced by the public one. {@code issuer} is never
 * touched, nor any member the IdP sent (but for the origin rewrite). Immutable, thread-safe.
 */
final class Augmenter {

    private final List<String> scopesSupported;
    /** {@code code-challenge-methods-supported}; null: off. */
    private final List<String> pkceMethods;
    private final /* nullable */ Origin upstream;
    private final /* nullable */ String publicOrigin;

    /**
     * @param augment the config; an empty {@code scopes-supported} counts as unset (advertising
     *     that no scope is supported helps nobody)
     * @param upstream the IdP's base URL, whose origin is the one rewritten
     * @param publicBaseUrl null disables the origin rewrite
     */
    Augmenter(ScopegateConfig.Augment augment, URI upstream, /* nullable */ URI publicBaseUrl) {
        List<String> scopes = augment.scopesSupported();
        this.scopesSupported = scopes == null || scopes.isEmpty() ? null : List.copyOf(scopes);
        List<String> methods = augment.codeChallengeMethodsSupported();
        this.pkceMethods = methods == null || methods.isEmpty() ? null : List.copyOf(methods);
        boolean rewrite = augment.rewriteOrigin() && publicBaseUrl != null;
        this.upstream = rewrite ? Origin.of(upstream) : null;
        this.publicOrigin = rewrite ? Origin.of(publicBaseUrl).toString() : null;
    }

    /** The body to serve for {@code metadata}, and its content type. */
    Body bodyFor(ServerMetadata metadata) {
        if (scopesSupported == null && pkceMethods == null && upstream == null) {
            return new Body(metadata.raw(), metadata.contentType());
        }
        ObjectNode doc = (ObjectNode) metadata.tree();
        boolean changed = false;
        changed |= addIfMissing(doc, "scopes_supported", scopesSupported);
        // MCP clients refuse a server whose metadata does not advertise PKCE (Cognito, Entra omit it)
        changed |= addIfMissing(doc, "code_challenge_methods_supported", pkceMethods);
        if (upstream != null) {
            for (Map.Entry<String, JsonNode> member : doc.properties()) {
                if (member.getKey().equals("issuer")) {
                    continue;
                }
                JsonNode rewritten = rewrite(member.getValue());
                if (rewritten != null) {
                    member.setValue(rewritten);
                    changed = true;
                }
            }
        }
        if (!changed) {
            return new Body(metadata.raw(), metadata.contentType());
        }
        try {
            return new Body(ServerMetadata.JSON.writeValueAsBytes(doc), ServerMetadata.DEFAULT_CONTENT_TYPE);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed tree always serializes", e);
        }
    }

    /** Adds {@code name: values} when {@code values} is set and the IdP omits the member (or sends null). */
    private static boolean addIfMissing(ObjectNode doc, String name, /* nullable */ List<String> values) {
        if (values == null) {
            return false;
        }
        JsonNode existing = doc.get(name);
        if (existing != null && !existing.isNull()) {
            return false;
        }
        ArrayNode array = doc.putArray(name);
        values.forEach(array::add);
        return true;
    }

    /** The rewritten node, or null when nothing in it changed (nested objects and arrays too). */
    private JsonNode rewrite(JsonNode node) {
        if (node.isTextual()) {
            String v = node.textValue();
            int end = upstream.authorityEnd(v);
            return end < 0 ? null : TextNode.valueOf(publicOrigin + v.substring(end));
        }
        boolean changed = false;
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                JsonNode r = rewrite(e.getValue());
                if (r != null) {
                    e.setValue(r);
                    changed = true;
                }
            }
        } else if (node.isArray()) {
            ArrayNode array = (ArrayNode) node;
            for (int i = 0; i < array.size(); i++) {
                JsonNode r = rewrite(array.get(i));
                if (r != null) {
                    array.set(i, r);
                    changed = true;
                }
            }
        }
        return changed ? node : null;
    }

    /** Bytes to serve with their content type. */
    record Body(byte[] bytes, String contentType) {}

    /** scheme, host and effective port of an http(s) URL; compared case-insensitively. */
    record Origin(String scheme, String host, int port) {

        static Origin of(URI uri) {
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
            authority = authority.substring(authority.lastIndexOf('@') + 1);
            String host = authority;
            int port = -1;
            int colon = authority.lastIndexOf(':');
            if (colon > 0 && !authority.endsWith("]")) {
                host = authority.substring(0, colon);
                try {
                    port = Integer.parseInt(authority.substring(colon + 1));
                } catch (NumberFormatException e) {
                    port = -1;
                }
            }
            if (port == -1) {
                port = scheme.equals("https") ? 443 : 80;
            }
            return new Origin(scheme, host.toLowerCase(Locale.ROOT), port);
        }

        /**
         * Where the authority of {@code url} ends when {@code url} is an absolute URL with this
         * origin; -1 otherwise.
         */
        int authorityEnd(String url) {
            int sep = url.indexOf("://");
            if (sep <= 0) {
                return -1;
            }
            int end = sep + 3;
            while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
                end++;
            }
            try {
                URI u = new URI(url.substring(0, end));
                return Origin.of(u).equals(this) ? end : -1;
            } catch (URISyntaxException e) {
                return -1;
            }
        }

        @Override
        public String toString() {
            boolean defaultPort = port == (scheme.equals("https") ? 443 : 80);
            return scheme + "://" + host + (defaultPort ? "" : ":" + port);
        }
    }
}
