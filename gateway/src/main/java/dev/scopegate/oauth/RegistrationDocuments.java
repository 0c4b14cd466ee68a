package dev.scopegate.oauth;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.scopegate.model.Registration;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Builds {@link Registration}s from RFC 7591 client metadata: the IdP's answer to a Dynamic
 * Client Registration, or an imported record. Keeps {@code client_id}, {@code scope},
 * {@code redirect_uris}, {@code grant_types}, {@code client_name} and
 * {@code registration_client_uri}; ignores every other member, so {@code client_secret} and
 * {@code registration_access_token} are never kept.
 *
 * <p>Total on bad input: anything that is not a JSON object with a non-blank string
 * {@code client_id}, or whose kept members have the wrong JSON type, yields
 * {@code Optional.empty()}; nothing here throws on what a peer sent. A member that is JSON
 * {@code null} counts as absent; a blank {@code scope} too. A {@code scope} sent as an array of
 * strings (some IdPs do) is joined with spaces. Documents with duplicate member names are refused,
 * since scopegate and the client could read different values from them. Stateless and
 * thread-safe.
 */
public final class RegistrationDocuments {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private RegistrationDocuments() {
    }

    /**
     * The registration an IdP's 2xx DCR response describes.
     *
     * @param responseJson     the response body as relayed to the client
     * @param requestJsonOrNull the client's registration request body, consulted only for
     *                          {@code scope} when the response has none; unreadable means absent
     * @param now              becomes {@code createdAt} and {@code updatedAt}
     */
    public static Optional<Registration> fromDcrResponse(byte[] responseJson, byte[] requestJsonOrNull, Instant now) {
        Objects.requireNonNull(now, "now");
        Optional<JsonNode> response = parseObject(responseJson);
        if (response.isEmpty()) {
            return Optional.empty();
        }
        Optional<Registration> parsed = fromClientMetadata(response.get(), now);
        if (parsed.isEmpty() || parsed.get().scope() != null || requestJsonOrNull == null) {
            return parsed;
        }
        Registration r = parsed.get();
        String requestedScope = parseObject(requestJsonOrNull).map(RegistrationDocuments::scopeOrNull).orElse(null);
        if (requestedScope == null) {
            return parsed;
        }
        return Optional.of(new Registration(r.clientId(), requestedScope, r.redirectUris(), r.grantTypes(),
                r.clientName(), r.registrationClientUri(), r.learnedScope(), r.createdAt(), r.updatedAt()));
    }

    /** The registration one RFC 7591 client metadata object describes (import, RFC 7592 reads). */
    public static Optional<Registration> fromClientMetadata(JsonNode obj, Instant now) {
        Objects.requireNonNull(now, "now");
        if (obj == null || !obj.isObject()) {
            return Optional.empty();
        }
        try {
            String clientId = string(obj, "client_id");
            if (clientId == null || clientId.isBlank()) {
                return Optional.empty();
            }
            return Optional.of(new Registration(clientId, scope(obj), strings(obj, "redirect_uris"),
                    strings(obj, "grant_types"), string(obj, "client_name"), string(obj, "registration_client_uri"),
                    null, now, now));
        } catch (WrongType e) {
            return Optional.empty();
        }
    }

    /**
     * The {@code scope} granted in a token response (RFC 6749 §5.1), or null. Only the scope is
     * read: the tokens in the same document are never kept.
     */
    public static String grantedScope(byte[] tokenResponseJson) {
        return parseObject(tokenResponseJson).map(RegistrationDocuments::scopeOrNull).orElse(null);
    }

    /** Parses {@code json} as one JSON object; empty for null, malformed or non-object input. */
    public static Optional<JsonNode> parseObject(byte[] json) {
        if (json == null || json.length == 0) {
            return Optional.empty();
        }
        try {
            JsonNode node = MAPPER.readTree(json);
            return node != null && node.isObject() ? Optional.of(node) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String scopeOrNull(JsonNode obj) {
        try {
            return scope(obj);
        } catch (WrongType e) {
            return null;
        }
    }

    private static String scope(JsonNode obj) {
        JsonNode v = obj.get("scope");
        String joined;
        if (v != null && v.isArray()) {
            joined = String.join(" ", strings(obj, "scope"));
        } else {
            joined = string(obj, "scope");
        }
        return joined == null || joined.isBlank() ? null : joined.strip();
    }

    private static String string(JsonNode obj, String name) {
        JsonNode v = obj.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new WrongType();
        }
        return v.textValue();
    }

    private static List<String> strings(JsonNode obj, String name) {
        JsonNode v = obj.get(name);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new WrongType();
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new WrongType();
            }
            out.add(e.textValue());
        }
        return out;
    }

    /** A kept member has the wrong JSON type; caught above, never escapes. */
    private static final class WrongType extends RuntimeException {
        private static final long serialVersionUID = 1L;

        WrongType() {
            super(null, null, false, false);
        }
    }
}
