package dev.scopegate.oauth;

import java.util.Objects;

/**
 * The parameters of one query string or form body, as split by {@link ParamCodec#parse}: the raw
 * text plus the boundaries of each parameter. Names and values are decoded only when asked for,
 * with the rules in {@link ParamCodec}; names are compared after decoding, so {@code sc%6Fpe} is
 * {@code scope}. Rewriting ({@link #withScope}) never re-encodes what it did not add.
 *
 * <p>Immutable and thread-safe.
 */
public final class Params {

    private final String raw;
    /** Per parameter: start, index of the first '=' (== end when there is none), end (exclusive). */
    private final int[] bounds;
    private final int size;
    private final boolean malformed;

    Params(String raw, int[] bounds, int size, boolean malformed) {
        this.raw = raw;
        this.bounds = bounds;
        this.size = size;
        this.malformed = malformed;
    }

    /** The text this was parsed from, unchanged. */
    public String raw() {
        return raw;
    }

    /**
     * True if any name or value has a {@code %} not followed by two hex digits, or does not
     * decode to valid UTF-8. Such input should be forwarded as it is rather than rewritten.
     */
    public boolean malformed() {
        return malformed;
    }

    /** Number of parameters, empty segments not counted. */
    public int size() {
        return size;
    }

    /** Decoded name of the {@code i}-th parameter (0-based, in order of appearance). */
    public String name(int i) {
        Objects.checkIndex(i, size);
        return ParamCodec.decode(raw, start(i), eq(i));
    }

    /** Decoded value of the {@code i}-th parameter; {@code ""} when it has no {@code =}. */
    public String value(int i) {
        Objects.checkIndex(i, size);
        return eq(i) == end(i) ? "" : ParamCodec.decode(raw, eq(i) + 1, end(i));
    }

    /** Number of parameters whose decoded name equals {@code name}. */
    public int count(String name) {
        Objects.requireNonNull(name, "name");
        int n = 0;
        for (int i = 0; i < size; i++) {
            if (nameIs(i, name)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Decoded value of the first parameter whose decoded name equals {@code name}; {@code ""} if
     * it has no {@code =}, {@code null} if there is none.
     */
    public String first(String name) {
        Objects.requireNonNull(name, "name");
        for (int i = 0; i < size; i++) {
            if (nameIs(i, name)) {
                return value(i);
            }
        }
        return null;
    }

    /**
     * The raw text with exactly one {@code scope} parameter whose decoded value is {@code scope};
     * every other char of {@link #raw()} stays as it was, in order.
     * <ul>
     *   <li>No {@code scope}: {@code scope=<encoded>} is appended, after a {@code &} unless the raw
     *       text is empty or already ends with one.</li>
     *   <li>One {@code scope} whose decoded value is empty or whitespace only
     *       ({@link String#isBlank()}): its raw value is replaced in place; {@code scope} without
     *       {@code =} becomes {@code scope=<encoded>}. The name keeps its raw spelling.</li>
     * </ul>
     * The new value is encoded as UTF-8 with every byte outside RFC 3986 unreserved as upper-case
     * {@code %XX}, so {@code "a:b c"} becomes {@code a%3Ab%20c}.
     *
     * @throws IllegalStateException    if {@code scope} occurs more than once or has a non-blank
     *                                  value (callers decide with {@link #count} and {@link #first}
     *                                  before rewriting)
     * @throws IllegalArgumentException if {@code scope} contains an unpaired surrogate
     */
    public String withScope(String scope) {
        Objects.requireNonNull(scope, "scope");
        int found = -1;
        for (int i = 0; i < size; i++) {
            if (nameIs(i, OAuthParams.SCOPE)) {
                if (found >= 0) {
                    throw new IllegalStateException("scope occurs more than once");
                }
                found = i;
            }
        }
        StringBuilder out = new StringBuilder(raw.length() + 8 + 3 * scope.length());
        if (found < 0) {
            out.append(raw);
            if (!raw.isEmpty() && raw.charAt(raw.length() - 1) != '&') {
                out.append('&');
            }
            out.append(OAuthParams.SCOPE).append('=');
            ParamCodec.appendEncoded(out, scope);
            return out.toString();
        }
        if (!value(found).isBlank()) {
            throw new IllegalStateException("scope already has a value");
        }
        out.append(raw, 0, eq(found)).append('=');
        ParamCodec.appendEncoded(out, scope);
        out.append(raw, end(found), raw.length());
        return out.toString();
    }

    /** Does not print the raw text: it may carry secrets (see {@link OAuthParams#isSecret}). */
    @Override
    public String toString() {
        return "Params[size=" + size + ", malformed=" + malformed + "]";
    }

    private boolean nameIs(int i, String name) {
        return ParamCodec.decodedEquals(raw, start(i), eq(i), name);
    }

    private int start(int i) {
        return bounds[3 * i];
    }

    private int eq(int i) {
        return bounds[3 * i + 1];
    }

    private int end(int i) {
        return bounds[3 * i + 2];
    }
}
