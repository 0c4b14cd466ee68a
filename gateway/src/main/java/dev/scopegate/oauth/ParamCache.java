package dev.scopegate.oauth;

import dev.scopegate.oauth.scope.AuthorizationRequest;

/**
 * Decoded and encoded forms of parameter values seen recently, so that the values that repeat
 * from one authorization request to the next (a client's {@code client_id} and
 * {@code redirect_uri}, the {@code resource}, the scope a decision adds) cost neither a decode,
 * an encode nor an allocation each time. The answers are exactly those of
 * {@link ParamCodec#decode} and {@link ParamCodec#encode}; a repeated value is returned as the
 * same {@code String} instance, which also keeps its cached hash code. For the same reason
 * {@link AuthorizationParams#toRequest} takes the {@link AuthorizationRequest} of a repeated
 * request from here.
 *
 * <p>Direct-mapped tables of a fixed number of slots: a value takes the slot its hash names,
 * evicting what was there. Memory is thus bounded (values longer than {@value #MAX_LENGTH}
 * chars are never kept), and a miss costs what decoding or encoding costs without the cache,
 * plus one small entry. Values unique to a request ({@code state}, {@code code_challenge})
 * should not be read through it: they would only evict the others.
 *
 * <p>Thread-safe without locks, meant to be shared by the event loops: entries are immutable
 * and a slot is replaced by a plain write, so a reader sees either the old or the new entry,
 * both complete; a race costs at most a miss.
 */
public final class ParamCache {

    /** Longer values are decoded and encoded afresh each time. */
    static final int MAX_LENGTH = 512;

    private record Decoded(String raw, String value) {}

    private record Encoded(String value, String encoded) {}

    private final Decoded[] decoded;
    private final Encoded[] encoded;
    private final AuthorizationRequest[] requests;
    private final int mask;

    /** @param slots entries per table, a power of two */
    public ParamCache(int slots) {
        if (slots <= 0 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two: " + slots);
        }
        this.decoded = new Decoded[slots];
        this.encoded = new Encoded[slots];
        this.requests = new AuthorizationRequest[slots];
        this.mask = slots - 1;
    }

    /** {@link ParamCodec#decode} of {@code text[from, to)}. */
    public String decode(String text, int from, int to) {
        int len = to - from;
        if (len > MAX_LENGTH) {
            return ParamCodec.decode(text, from, to);
        }
        int slot = hash(text, from, to) & mask;
        Decoded e = decoded[slot];
        if (e != null && e.raw.length() == len && text.regionMatches(from, e.raw, 0, len)) {
            return e.value;
        }
        String value = ParamCodec.decode(text, from, to);
        // a plain value is its own raw text: keep one string
        String raw = value.length() == len && text.regionMatches(from, value, 0, len) ? value : text.substring(from, to);
        decoded[slot] = new Decoded(raw, value);
        return value;
    }

    /**
     * {@link ParamCodec#encode} of {@code value}.
     *
     * @throws IllegalArgumentException if {@code value} has an unpaired surrogate
     */
    public String encode(String value) {
        if (value.length() > MAX_LENGTH) {
            return ParamCodec.encode(value);
        }
        int h = value.hashCode();
        int slot = (h ^ h >>> 16) & mask;
        Encoded e = encoded[slot];
        if (e != null && (e.value == value || e.value.equals(value))) {
            return e.encoded;
        }
        String enc = ParamCodec.encode(value);
        encoded[slot] = new Encoded(value, enc);
        return enc;
    }

    /**
     * {@code new AuthorizationRequest(...)} without {@code state}, or the same instance as for an
     * earlier request with these very values: with values read through this cache, the requests
     * of a client repeat, and so can the record the resolver reads.
     */
    AuthorizationRequest request(int clientIdCount, String clientId, int scopeCount, String scope, String redirectUri,
                                 String resource, boolean hasRequestObject, boolean hasRequestUri, boolean isGet,
                                 boolean malformed) {
        int h = ((clientId == null ? 0 : clientId.hashCode()) * 31 + (redirectUri == null ? 0 : redirectUri.hashCode()))
                * 31 + (resource == null ? 0 : resource.hashCode());
        int slot = (h ^ h >>> 16) & mask;
        AuthorizationRequest r = requests[slot];
        if (r != null && r.clientId() == clientId && r.redirectUri() == redirectUri && r.resource() == resource
                && r.scope() == scope && r.clientIdCount() == clientIdCount && r.scopeCount() == scopeCount
                && r.hasRequestObject() == hasRequestObject && r.hasRequestUri() == hasRequestUri
                && r.isGet() == isGet && r.malformed() == malformed && r.state() == null) {
            return r;
        }
        r = new AuthorizationRequest(clientIdCount, clientId, scopeCount, scope, redirectUri, resource,
                hasRequestObject, hasRequestUri, isGet, malformed, null);
        requests[slot] = r;
        return r;
    }

    /**
     * A cheap hash of the raw text: its length and at most nine chars taken from the end
     * backwards, where values of one kind differ (UUIDs everywhere, URLs at their path). A weak
     * hash only costs misses: a hit is confirmed by comparing every char.
     */
    private static int hash(String text, int from, int to) {
        int len = to - from;
        int h = len;
        int step = (len >>> 3) + 1;
        for (int i = to - 1; i >= from; i -= step) {
            h = 31 * h + text.charAt(i);
        }
        return h ^ h >>> 16;
    }
}
