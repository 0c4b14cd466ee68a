package dev.scopegate.store;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.scopegate.model.Registration;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The document format stores keep a {@link Registration} in: one JSON object with RFC 7591 field
 * names where one exists, instants as ISO-8601 strings (lossless, readable in a SQL shell or
 * {@code redis-cli}). The format is versioned by its {@code "v"} member so that a later scopegate
 * can read what an earlier one wrote. Stateless and thread-safe.
 */
public final class RegistrationJson {

    /** The version written into every document. */
    public static final int VERSION = 1;

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private RegistrationJson() {
    }

    public static String toJson(Registration r) {
        ObjectNode doc = MAPPER.createObjectNode();
        doc.put("v", VERSION);
        doc.put("client_id", r.clientId());
        putIfNotNull(doc, "scope", r.scope());
        ArrayNode redirectUris = doc.putArray("redirect_uris");
        r.redirectUris().forEach(redirectUris::add);
        ArrayNode grantTypes = doc.putArray("grant_types");
        r.grantTypes().forEach(grantTypes::add);
        putIfNotNull(doc, "client_name", r.clientName());
        putIfNotNull(doc, "registration_client_uri", r.registrationClientUri());
        putIfNotNull(doc, "learned_scope", r.learnedScope());
        doc.put("created_at", r.createdAt().toString());
        doc.put("updated_at", r.updatedAt().toString());
        try {
            return MAPPER.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            // A tree of strings cannot fail to serialize.
            throw new IllegalStateException("cannot serialize registration", e);
        }
    }

    /**
     * Reads a document written by {@link #toJson}.
     *
     * @throws IllegalArgumentException if the text is not such a document (the message never
     *                                  quotes the document)
     */
    public static Registration fromJson(String json) {
        JsonNode node;
        try {
            node = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("registration document is not valid JSON");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("registration document is not a JSON object");
        }
        int version = node.path("v").asInt(-1);
        if (version != VERSION) {
            throw new IllegalArgumentException("unsupported registration document version " + node.path("v"));
        }
        String clientId = text(node, "client_id");
        if (clientId == null) {
            throw new IllegalArgumentException("registration document has no client_id");
        }
        return new Registration(clientId, text(node, "scope"), strings(node, "redirect_uris"),
                strings(node, "grant_types"), text(node, "client_name"), text(node, "registration_client_uri"),
                text(node, "learned_scope"), instant(node, "created_at"), instant(node, "updated_at"));
    }

    private static void putIfNotNull(ObjectNode doc, String name, String value) {
        if (value != null) {
            doc.put(name, value);
        }
    }

    private static String text(JsonNode node, String name) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("registration document member " + name + " is not a string");
        }
        return v.textValue();
    }

    private static List<String> strings(JsonNode node, String name) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new IllegalArgumentException("registration document member " + name + " is not an array");
        }
        List<String> out = new ArrayList<>(v.size());
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new IllegalArgumentException("registration document member " + name + " holds a non-string");
            }
            out.add(e.textValue());
        }
        return out;
    }

    private static Instant instant(JsonNode node, String name) {
        String s = text(node, name);
        if (s == null) {
            throw new IllegalArgumentException("registration document has no " + name);
        }
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("registration document member " + name + " is not an instant");
        }
    }
}
