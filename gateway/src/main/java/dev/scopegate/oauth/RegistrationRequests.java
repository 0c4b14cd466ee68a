package dev.scopegate.oauth;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and changes the {@code scope} of a Dynamic Client Registration request (RFC 7591 JSON)
 * without re-serializing it: {@link #read} finds where the scope is (or where it would go) by
 * byte offsets, {@link #withScope} splices {@code "scope":"…"} in and keeps every other byte as it
 * came (member order, spacing, escapes, numbers).
 *
 * <p>A scope that is absent, {@code null}, or a string of only whitespace counts as missing: an
 * IdP treats all three as "no scope", and so does the authorization trigger
 * {@code missing-or-empty}. A present one is replaced in place (no duplicate member); an absent
 * one is inserted as the object's first member. Stateless; safe from any thread.
 */
public final class RegistrationRequests {

    private static final JsonFactory JSON = JsonFactory.builder().build();

    /**
     * What {@link #read} found.
     *
     * @param missing      the scope is absent, {@code null} or blank
     * @param from         where the scope's value starts (an absent one: where the member is inserted)
     * @param to           where it ends (absent: {@code from})
     * @param absent       there is no {@code scope} member
     * @param hasMembers   the object has members besides an absent scope (the insertion needs a comma)
     * @param redirectUris the string entries of {@code redirect_uris}, in order
     */
    public record Shape(boolean missing, int from, int to, boolean absent, boolean hasMembers,
                        List<String> redirectUris) {
        public Shape {
            redirectUris = List.copyOf(redirectUris);
        }
    }

    private RegistrationRequests() {
    }

    /**
     * The shape of {@code body}, or null when it is not one JSON object in UTF-8 (nothing follows
     * it but whitespace), has {@code scope} more than once, or a {@code scope} that is neither a
     * string nor {@code null}: those are left for the IdP to judge.
     */
    public static /* nullable */ Shape read(byte[] body) {
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            int open = (int) p.currentTokenLocation().getByteOffset();
            if (open < 0 || open >= body.length || body[open] != '{') {
                return null; // not UTF-8: offsets would not be bytes
            }
            int scopes = 0;
            int from = open + 1;
            int to = open + 1;
            boolean missing = true;
            boolean members = false;
            List<String> redirectUris = new ArrayList<>();
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                if (t != JsonToken.FIELD_NAME) {
                    return null;
                }
                members = true;
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (value == null) {
                    return null;
                }
                if (OAuthParams.SCOPE.equals(name)) {
                    scopes++;
                    if (value == JsonToken.VALUE_STRING) {
                        missing = p.getText().isBlank(); // reads the whole string: the location is after it
                    } else if (value != JsonToken.VALUE_NULL) {
                        return null;
                    }
                    from = (int) p.currentTokenLocation().getByteOffset();
                    to = (int) p.currentLocation().getByteOffset();
                } else if ("redirect_uris".equals(name) && value == JsonToken.START_ARRAY) {
                    for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                        if (e == JsonToken.VALUE_STRING) {
                            redirectUris.add(p.getText());
                        } else {
                            p.skipChildren();
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
            if (p.nextToken() != null || scopes > 1) {
                return null;
            }
            boolean absent = scopes == 0;
            return new Shape(missing, from, to, absent, absent && members, redirectUris);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** {@code body} (as read into {@code shape}) with its scope set to {@code scope}. */
    public static byte[] withScope(byte[] body, Shape shape, String scope) {
        byte[] quoted = JsonStringEncoder.getInstance().quoteAsUTF8(scope);
        byte[] member;
        if (shape.absent()) {
            String head = "\"" + OAuthParams.SCOPE + "\":\"";
            String tail = shape.hasMembers() ? "\"," : "\"";
            member = concat(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII), quoted,
                    tail.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        } else {
            member = concat(new byte[]{'"'}, quoted, new byte[]{'"'});
        }
        byte[] out = new byte[body.length - (shape.to() - shape.from()) + member.length];
        System.arraycopy(body, 0, out, 0, shape.from());
        System.arraycopy(member, 0, out, shape.from(), member.length);
        System.arraycopy(body, shape.to(), out, shape.from() + member.length, body.length - shape.to());
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b, byte[] c) {
        byte[] out = new byte[a.length + b.length + c.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        System.arraycopy(c, 0, out, a.length + b.length, c.length);
        return out;
    }
}
