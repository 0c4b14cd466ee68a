package dev.scopegate.oauth.metadata;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code compat.add-iss}: the served authorization server metadata says
 * {@code authorization_response_iss_parameter_supported: true} (RFC 9207 §3), since scopegate then
 * adds {@code iss} to the IdP's authorization responses. An IdP's explicit {@code false} is
 * overridden too: it described the IdP, and the responses clients get now carry {@code iss}. A
 * document that already says {@code true} is served byte for byte. Thread-safe; remembers the last
 * document it changed so that serving the same cached document again costs nothing.
 */
public final class IssAdvertisement {

    public static final String MEMBER = "authorization_response_iss_parameter_supported";

    private record Last(byte[] in, byte[] out) {}

    private volatile Last last;

    /** {@code body} (a served metadata document) with the member {@code true}; the same array when nothing changes. */
    public byte[] apply(byte[] body) {
        Last l = last;
        if (l != null && l.in() == body) {
            return l.out();
        }
        byte[] out = body;
        try {
            JsonNode doc = ServerMetadata.JSON.readTree(body);
            if (doc instanceof ObjectNode o) {
                JsonNode existing = o.get(MEMBER);
                if (existing == null || !existing.isBoolean() || !existing.booleanValue()) {
                    o.put(MEMBER, true);
                    out = ServerMetadata.JSON.writeValueAsBytes(o);
                }
            }
        } catch (IOException | RuntimeException e) {
            out = body; // not a JSON object: served as it is
        }
        last = new Last(body, out);
        return out;
    }
}
