package dev.scopegate.oauth.metadata;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The IdP's authorization-server metadata (RFC 8414, or an OpenID Connect discovery document):
 * the members scopegate uses, plus the exact bytes as fetched, which are what clients are served
 * unless augmentation changes them.
 *
 * <p>Immutable and thread-safe. Parsing is lenient about members scopegate does not need to
 * trust: an endpoint member that is not a string counts as absent, non-string entries of
 * {@code scopes_supported} are skipped. Only a missing or non-string {@code issuer} (or a body
 * that is not a JSON object) is an error.
 */
public final class ServerMetadata {

    /** Content type assumed when the IdP sends none. */
    public static final String DEFAULT_CONTENT_TYPE = "application/json";

    static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String issuer;
    private final String authorizationEndpoint;
    private final String tokenEndpoint;
    private final String registrationEndpoint;
    private final String parEndpoint;
    private final List<String> scopesSupported;
    private final boolean issParameterSupported;
    private final byte[] raw;
    private final String contentType;
    private final String authorizationPath;
    private final String tokenPath;
    private final String registrationPath;
    private final String parPath;

    private ServerMetadata(JsonNode doc, byte[] raw, String contentType) {
        this.issuer = doc.get("issuer").textValue();
        this.authorizationEndpoint = string(doc, "authorization_endpoint");
        this.tokenEndpoint = string(doc, "token_endpoint");
        this.registrationEndpoint = string(doc, "registration_endpoint");
        this.parEndpoint = string(doc, "pushed_authorization_request_endpoint");
        this.scopesSupported = strings(doc.get("scopes_supported"));
        JsonNode iss = doc.get("authorization_response_iss_parameter_supported");
        this.issParameterSupported = iss != null && iss.isBoolean() && iss.booleanValue();
        this.raw = raw;
        this.contentType = contentType;
        this.authorizationPath = pathOf(authorizationEndpoint);
        this.tokenPath = pathOf(tokenEndpoint);
        this.registrationPath = pathOf(registrationEndpoint);
        this.parPath = pathOf(parEndpoint);
    }

    /** Parses a document served as {@value #DEFAULT_CONTENT_TYPE}. */
    public static ServerMetadata parse(byte[] json) {
        return parse(json, DEFAULT_CONTENT_TYPE);
    }

    /**
     * Parses {@code json} (copied) and remembers {@code contentType} (the IdP's
     * {@code Content-Type}; null means {@value #DEFAULT_CONTENT_TYPE}) for serving it again.
     *
     * @throws InvalidMetadataException when the body is not a single JSON object or has no string
     *     {@code issuer}
     */
    public static ServerMetadata parse(byte[] json, /* nullable */ String contentType) {
        Objects.requireNonNull(json, "json");
        byte[] copy = json.clone();
        JsonNode doc;
        try {
            doc = JSON.readTree(copy);
        } catch (JacksonException e) {
            throw new InvalidMetadataException("metadata is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            throw new InvalidMetadataException("metadata is not readable: " + e.getMessage(), e);
        }
        if (doc == null || doc.isMissingNode()) {
            throw new InvalidMetadataException("metadata is empty");
        }
        if (!doc.isObject()) {
            throw new InvalidMetadataException("metadata is not a JSON object but " + doc.getNodeType());
        }
        JsonNode issuer = doc.get("issuer");
        if (issuer == null || !issuer.isTextual() || issuer.textValue().isEmpty()) {
            throw new InvalidMetadataException("metadata has no issuer (a non-empty string is required)");
        }
        return new ServerMetadata(doc, copy, contentType == null || contentType.isBlank() ? DEFAULT_CONTENT_TYPE : contentType);
    }

    /**
     * The path of an endpoint URL, as the route matcher compares it with request paths: the raw
     * (still percent-encoded) path, {@code "/"} for an empty one. A relative reference yields its
     * path. Null for null or an unparseable value.
     */
    public static /* nullable */ String pathOf(/* nullable */ String endpointUrl) {
        if (endpointUrl == null) {
            return null;
        }
        try {
            URI uri = new URI(endpointUrl);
            if (uri.isOpaque()) {
                return null;
            }
            String path = uri.getRawPath();
            return path == null || path.isEmpty() ? "/" : path;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** {@code issuer}, never changed by scopegate (RFC 8414 §3.3, RFC 9207). */
    public String issuer() {
        return issuer;
    }

    /** {@code authorization_endpoint}, or null. */
    public String authorizationEndpoint() {
        return authorizationEndpoint;
    }

    /** {@code token_endpoint}, or null. */
    public String tokenEndpoint() {
        return tokenEndpoint;
    }

    /** {@code registration_endpoint} (RFC 7591), or null. */
    public String registrationEndpoint() {
        return registrationEndpoint;
    }

    /** {@code pushed_authorization_request_endpoint} (RFC 9126), or null. */
    public String parEndpoint() {
        return parEndpoint;
    }

    /** {@link #pathOf} of {@link #authorizationEndpoint()}, or null. */
    public String authorizationPath() {
        return authorizationPath;
    }

    /** {@link #pathOf} of {@link #tokenEndpoint()}, or null. */
    public String tokenPath() {
        return tokenPath;
    }

    /** {@link #pathOf} of {@link #registrationEndpoint()}, or null. */
    public String registrationPath() {
        return registrationPath;
    }

    /** {@link #pathOf} of {@link #parEndpoint()}, or null. */
    public String parPath() {
        return parPath;
    }

    /** The IdP's own {@code scopes_supported} (unmodifiable), or null when it publishes none. */
    public List<String> scopesSupported() {
        return scopesSupported;
    }

    /** {@code authorization_response_iss_parameter_supported} (RFC 9207); false when absent. */
    public boolean issParameterSupported() {
        return issParameterSupported;
    }

    /** A copy of the document exactly as fetched. */
    public byte[] raw() {
        return raw.clone();
    }

    /** The IdP's {@code Content-Type} for the document. */
    public String contentType() {
        return contentType;
    }

    /** The parsed document, for augmentation; a fresh tree on each call, so callers may mutate it. */
    JsonNode tree() {
        try {
            return JSON.readTree(raw);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("parsed once, cannot fail now", e);
        }
    }

    @Override
    public String toString() {
        return "ServerMetadata[issuer=" + issuer + ", " + raw.length + " bytes]";
    }

    private static String string(JsonNode doc, String member) {
        JsonNode v = doc.get(member);
        return v != null && v.isTextual() ? v.textValue() : null;
    }

    private static List<String> strings(JsonNode v) {
        if (v == null || !v.isArray()) {
            return null;
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            if (e.isTextual()) {
                out.add(e.textValue());
            }
        }
        return List.copyOf(out);
    }
}
