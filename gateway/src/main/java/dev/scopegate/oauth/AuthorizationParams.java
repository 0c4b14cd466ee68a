// Over 400 lines: the allocation-light reader of authorization parameters (query and form), its fast paths measured by JMH, in one place.
package dev.scopegate.oauth;

import dev.scopegate.oauth.scope.AuthorizationRequest;

import java.util.Objects;

/**
 * The parameters of an authorization (or PAR) request that the scope decision reads, located in
 * one pass over a query or form body, and the scope rewrite of that text: the hot-path twin of
 * {@link Params}, with the same syntax, decoding and well-formedness rules ({@link ParamCodec}).
 *
 * <p>Parsing records, for {@code client_id}, {@code scope}, {@code redirect_uri}, {@code resource},
 * {@code state}, {@code code_challenge}, {@code request}, {@code request_uri} and {@code prompt},
 * how often each occurs and where its first value is; nothing is decoded until asked for, and
 * nothing is allocated but this object (a name spelled with escapes, like {@code sc%6Fpe}, is
 * decoded to be compared). Values that repeat across requests ({@code client_id},
 * {@code redirect_uri} …) can be read through a {@link ParamCache}, without allocating either.
 *
 * <p>The parameters are those of {@code text[from, to)}; the rest of {@code text} is kept as it
 * is by {@link #withScope}, so a query can be parsed inside its request URI and the new URI built
 * in one exactly sized step. On the hot path, {@link #read} goes straight from the text to the
 * {@link AuthorizationRequest} the resolver reads and {@link #appendScope} builds the new text,
 * so that a repeated request allocates nothing but the new URI.
 *
 * <p>Immutable; safe from any thread.
 */
public final class AuthorizationParams {

    private static final int OTHER = 0;
    private static final int CLIENT_ID = 1;
    private static final int SCOPE = 2;
    private static final int REDIRECT_URI = 3;
    private static final int RESOURCE = 4;
    private static final int STATE = 5;
    private static final int CODE_CHALLENGE = 6;
    private static final int REQUEST = 7;
    private static final int REQUEST_URI = 8;
    private static final int PROMPT = 9;
    /** The longest name above, decoded; escaped, each char may take up to three. */
    private static final int LONGEST_NAME = OAuthParams.CODE_CHALLENGE.length();

    private final String text;
    private final int from;
    private final int to;
    private final boolean malformed;
    private final int clientIdCount;
    private final int scopeCount;
    private final boolean hasRequest;
    private final boolean hasRequestUri;
    private final boolean hasPrompt;
    /** First occurrence of each, as {@code eq << 32 | end} ({@code eq == end}: no '='), or -1 when absent. */
    private final long clientId;
    private final long scope;
    private final long redirectUri;
    private final long resource;
    private final long state;
    private final long codeChallenge;

    private AuthorizationParams(String text, int from, int to, boolean malformed, int clientIdCount, int scopeCount,
                                boolean hasRequest, boolean hasRequestUri, boolean hasPrompt, long clientId, long scope,
                                long redirectUri, long resource, long state, long codeChallenge) {
        this.text = text;
        this.from = from;
        this.to = to;
        this.malformed = malformed;
        this.clientIdCount = clientIdCount;
        this.scopeCount = scopeCount;
        this.hasRequest = hasRequest;
        this.hasRequestUri = hasRequestUri;
        this.hasPrompt = hasPrompt;
        this.clientId = clientId;
        this.scope = scope;
        this.redirectUri = redirectUri;
        this.resource = resource;
        this.state = state;
        this.codeChallenge = codeChallenge;
    }

    /** The parameters of all of {@code raw} ({@code null} is read as {@code ""}). Never throws. */
    public static AuthorizationParams parse(String raw) {
        String s = raw == null ? "" : raw;
        return parse(s, 0, s.length());
    }

    /**
     * The parameters of {@code text[from, to)}, e.g. the query of a request URI after its
     * {@code ?}. Never throws on any content.
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code text}
     */
    public static AuthorizationParams parse(String text, int from, int to) {
        return (AuthorizationParams) scan(text, from, to, false, false, false, null);
    }

    /**
     * {@code parse(text, from, to).toRequest(isGet, withState, values)} without building the
     * parsed view: the one pass ends in the request itself, which for a repeated request comes
     * from {@code values}, so nothing at all is allocated. For the hot path, where the view is
     * needed only to rewrite (see {@link #appendScope}) or in rare cases (parse again then).
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code text}
     */
    public static AuthorizationRequest read(String text, int from, int to, boolean isGet, boolean withState,
                                            ParamCache values) {
        return (AuthorizationRequest) scan(text, from, to, true, isGet, withState, values);
    }

    /** The one pass of {@link #parse} and {@link #read}: ends in a view, or (if {@code read}) in a request. */
    private static Object scan(String text, int from, int to, boolean read, boolean isGet, boolean withState,
                               ParamCache values) {
        Objects.checkFromToIndex(from, to, text.length());
        boolean malformed = false;
        int clientIdCount = 0;
        int scopeCount = 0;
        boolean hasRequest = false;
        boolean hasRequestUri = false;
        boolean hasPrompt = false;
        long clientId = -1;
        long scope = -1;
        long redirectUri = -1;
        long resource = -1;
        long state = -1;
        long codeChallenge = -1;
        int start = from;
        int nextEq = from - 1; // the first '=' at or after some earlier start (to: none left)
        while (start < to) {
            // '&' and '=' by String.indexOf (vectorized): a third of the old char-by-char loop's time
            int end = text.indexOf('&', start);
            if (end < 0 || end > to) {
                end = to;
            }
            if (nextEq < start) { // else nextEq is still the first '=' at or after start
                nextEq = text.indexOf('=', start);
                if (nextEq < 0 || nextEq > to) {
                    nextEq = to;
                }
            }
            int eq = nextEq < end ? nextEq : -1;
            boolean escaped = false; // '%' or a non-ASCII char: check well-formedness
            for (int i = start; i < end; i++) {
                char c = text.charAt(i);
                if (c == '%' || c > 0x7F) {
                    escaped = true;
                    break;
                }
            }
            if (end > start) {
                if (eq < 0) {
                    eq = end;
                }
                if (escaped && !malformed) {
                    malformed = !ParamCodec.wellFormed(text, start, eq)
                            || (eq < end && !ParamCodec.wellFormed(text, eq + 1, end));
                }
                long at = (long) eq << 32 | end;
                switch (nameOf(text, start, eq)) {
                    case CLIENT_ID -> {
                        if (clientIdCount++ == 0) {
                            clientId = at;
                        }
                    }
                    case SCOPE -> {
                        if (scopeCount++ == 0) {
                            scope = at;
                        }
                    }
                    case REDIRECT_URI -> redirectUri = redirectUri < 0 ? at : redirectUri;
                    case RESOURCE -> resource = resource < 0 ? at : resource;
                    case STATE -> state = state < 0 ? at : state;
                    case CODE_CHALLENGE -> codeChallenge = codeChallenge < 0 ? at : codeChallenge;
                    case REQUEST -> hasRequest = true;
                    case REQUEST_URI -> hasRequestUri = true;
                    case PROMPT -> hasPrompt = true;
                    default -> {
                    }
                }
            }
            start = end + 1;
        }
        if (!read) {
            return new AuthorizationParams(text, from, to, malformed, clientIdCount, scopeCount, hasRequest,
                    hasRequestUri, hasPrompt, clientId, scope, redirectUri, resource, state, codeChallenge);
        }
        return request(text, isGet, withState, values, malformed, clientIdCount, scopeCount, hasRequest,
                hasRequestUri, clientId, scope, redirectUri, resource, state);
    }

    private static AuthorizationRequest request(String text, boolean isGet, boolean withState, ParamCache values,
                                                boolean malformed, int clientIdCount, int scopeCount,
                                                boolean hasRequest, boolean hasRequestUri, long clientId, long scope,
                                                long redirectUri, long resource, long state) {
        if (withState || values == null) {
            return new AuthorizationRequest(clientIdCount, value(text, clientId, values), scopeCount,
                    value(text, scope, values), value(text, redirectUri, values), value(text, resource, values),
                    hasRequest, hasRequestUri, isGet, malformed, withState ? value(text, state, null) : null);
        }
        return values.request(clientIdCount, value(text, clientId, values), scopeCount, value(text, scope, values),
                value(text, redirectUri, values), value(text, resource, values), hasRequest, hasRequestUri, isGet,
                malformed);
    }

    /**
     * {@code Params.first(name)} for the parameters {@code text[from, to)}, without parsing them:
     * the decoded value of the first parameter whose decoded name is {@code name}, {@code ""}
     * when it has no {@code =}, null when there is none. For the rare reads {@link #read} does not
     * answer (e.g. {@code code_challenge}).
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code text}
     */
    public static String first(String text, int from, int to, String name) {
        Objects.checkFromToIndex(from, to, text.length());
        Objects.requireNonNull(name, "name");
        int start = from;
        while (start < to) {
            int end = text.indexOf('&', start);
            if (end < 0 || end > to) {
                end = to;
            }
            if (end > start) {
                int eq = start;
                while (eq < end && text.charAt(eq) != '=') {
                    eq++;
                }
                if (ParamCodec.decodedEquals(text, start, eq, name)) {
                    return eq == end ? "" : ParamCodec.decode(text, eq + 1, end);
                }
            }
            start = end + 1;
        }
        return null;
    }

    /** Which of the names this class records {@code text[from, to)} decodes to, or {@link #OTHER}. */
    private static int nameOf(String text, int from, int to) {
        int len = to - from;
        if (len > 3 * LONGEST_NAME) {
            return OTHER;
        }
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c == '%' || c == '+' || c > 0x7F) {
                return nameOf(ParamCodec.decode(text, from, to));
            }
        }
        switch (len) {
            case 5:
                return is(text, from, OAuthParams.SCOPE) ? SCOPE : is(text, from, OAuthParams.STATE) ? STATE : OTHER;
            case 6:
                return is(text, from, OAuthParams.PROMPT) ? PROMPT : OTHER;
            case 7:
                return is(text, from, OAuthParams.REQUEST) ? REQUEST : OTHER;
            case 8:
                return is(text, from, OAuthParams.RESOURCE) ? RESOURCE : OTHER;
            case 9:
                return is(text, from, OAuthParams.CLIENT_ID) ? CLIENT_ID : OTHER;
            case 11:
                return is(text, from, OAuthParams.REQUEST_URI) ? REQUEST_URI : OTHER;
            case 12:
                return is(text, from, OAuthParams.REDIRECT_URI) ? REDIRECT_URI : OTHER;
            case 14:
                return is(text, from, OAuthParams.CODE_CHALLENGE) ? CODE_CHALLENGE : OTHER;
            default:
                return OTHER;
        }
    }

    private static boolean is(String text, int from, String name) {
        return text.regionMatches(from, name, 0, name.length());
    }

    private static int nameOf(String decoded) {
        switch (decoded) {
            case OAuthParams.CLIENT_ID: return CLIENT_ID;
            case OAuthParams.SCOPE: return SCOPE;
            case OAuthParams.REDIRECT_URI: return REDIRECT_URI;
            case OAuthParams.RESOURCE: return RESOURCE;
            case OAuthParams.STATE: return STATE;
            case OAuthParams.CODE_CHALLENGE: return CODE_CHALLENGE;
            case OAuthParams.REQUEST: return REQUEST;
            case OAuthParams.REQUEST_URI: return REQUEST_URI;
            case OAuthParams.PROMPT: return PROMPT;
            default: return OTHER;
        }
    }

    /** As {@link Params#malformed()}: forward such input as it is rather than rewrite it. */
    public boolean malformed() {
        return malformed;
    }

    public int clientIdCount() {
        return clientIdCount;
    }

    public int scopeCount() {
        return scopeCount;
    }

    public boolean hasRequest() {
        return hasRequest;
    }

    public boolean hasRequestUri() {
        return hasRequestUri;
    }

    public boolean hasPrompt() {
        return hasPrompt;
    }

    /** Decoded first {@code client_id} ({@code ""} without '='), null if absent; repeats come from {@code values}. */
    public String clientId(ParamCache values) {
        return value(clientId, values);
    }

    /** Decoded first {@code scope}, as {@link #clientId}. */
    public String scope(ParamCache values) {
        return value(scope, values);
    }

    /** Decoded first {@code redirect_uri}, as {@link #clientId}. */
    public String redirectUri(ParamCache values) {
        return value(redirectUri, values);
    }

    /** Decoded first {@code resource}, as {@link #clientId}. */
    public String resource(ParamCache values) {
        return value(resource, values);
    }

    /** Decoded first {@code state}, null if absent. Unique per request: never cached. */
    public String state() {
        return value(state, null);
    }

    /** Decoded first {@code code_challenge}, null if absent. Unique per request: never cached. */
    public String codeChallenge() {
        return value(codeChallenge, null);
    }

    /**
     * What the resolver reads of these parameters.
     *
     * @param isGet     a query (GET), not a form body
     * @param withState decode {@code state}; without, the request's {@code state} is null (the
     *                  resolver reads it only for {@code on-unresolved: reject}, see
     *                  {@code ScopeResolver#readsState})
     * @param values    the cache repeated values (and, without {@code state}, repeated requests) are
     *                  read through; null decodes each afresh
     */
    public AuthorizationRequest toRequest(boolean isGet, boolean withState, ParamCache values) {
        return request(text, isGet, withState, values, malformed, clientIdCount, scopeCount, hasRequest,
                hasRequestUri, clientId, scope, redirectUri, resource, state);
    }

    private String value(long at, ParamCache values) {
        return value(text, at, values);
    }

    private static String value(String text, long at, ParamCache values) {
        if (at < 0) {
            return null;
        }
        int eq = (int) (at >>> 32);
        int end = (int) at;
        if (eq == end) {
            return "";
        }
        return values == null ? ParamCodec.decode(text, eq + 1, end) : values.decode(text, eq + 1, end);
    }

    /**
     * The text with exactly one {@code scope} parameter whose value is {@code encodedScope}, as
     * {@link Params#withScope} (same bytes), followed by {@code append} when it is not null:
     * without {@code scope}, {@code scope=<encodedScope>} is appended to the parameters (after an
     * {@code &} unless they are empty or end with one); a blank {@code scope} gets the value in
     * place. Every char outside the rewritten parameter stays as it was, {@code text} outside
     * {@code [from, to)} included. When the parameters end the text and have no {@code scope}
     * (the usual case), the result is the only allocation.
     *
     * @param encodedScope the new value, already encoded ({@link ParamCache#encode})
     * @param append       raw text added after the parameters (e.g. {@code &prompt=consent}), or null
     * @throws IllegalStateException if {@code scope} occurs more than once or has a non-blank value
     */
    public String withScope(String encodedScope, String append) {
        Objects.requireNonNull(encodedScope, "encodedScope");
        if (scopeCount > 1) {
            throw new IllegalStateException("scope occurs more than once");
        }
        if (scopeCount == 0) {
            return appendScope(text, from, to, encodedScope, append);
        }
        if (!value(scope, null).isBlank()) {
            throw new IllegalStateException("scope already has a value");
        }
        int eq = (int) (scope >>> 32);
        int end = (int) scope;
        StringBuilder out = new StringBuilder(text.length() + 1 + encodedScope.length()
                + (append == null ? 0 : append.length()));
        out.append(text, 0, eq).append('=').append(encodedScope).append(text, end, to);
        if (append != null) {
            out.append(append);
        }
        return out.append(text, to, text.length()).toString();
    }

    /**
     * The text with the value of its one non-blank {@code scope} parameter extended by
     * {@code %20<encodedTokens>} ({@code scope.add-always}); the client's own bytes of that value
     * and every other char stay as they were; {@code append} (nullable) follows the parameters.
     *
     * @throws IllegalStateException if {@code scope} is absent, repeated or blank
     */
    public String withScopeExtended(String encodedTokens, /* nullable */ String append) {
        Objects.requireNonNull(encodedTokens, "encodedTokens");
        String own = scopeCount == 1 ? value(scope, null) : null;
        if (own == null || own.isBlank()) {
            throw new IllegalStateException("no single non-blank scope to extend");
        }
        int end = (int) scope;
        StringBuilder out = new StringBuilder(text.length() + 3 + encodedTokens.length()
                + (append == null ? 0 : append.length()));
        // a value that already ends with a space (some clients send "read+") needs no separator
        out.append(text, 0, end).append(own.endsWith(" ") ? "" : "%20").append(encodedTokens).append(text, end, to);
        if (append != null) {
            out.append(append);
        }
        return out.append(text, to, text.length()).toString();
    }

    /**
     * {@link #withScope} for parameters {@code text[from, to)} known to have no {@code scope}
     * (as {@link #read} tells): {@code scope=<encodedScope>} and {@code append} (when not null)
     * added after them, after an {@code &} unless they are empty or end with one; the text
     * around them kept. When the parameters end the text (the usual case) the result is built
     * by one exactly sized concatenation, its only allocation.
     *
     * @throws IndexOutOfBoundsException if the range is not within {@code text}
     */
    public static String appendScope(String text, int from, int to, String encodedScope, String append) {
        Objects.checkFromToIndex(from, to, text.length());
        Objects.requireNonNull(encodedScope, "encodedScope");
        boolean separator = to > from && text.charAt(to - 1) != '&';
        if (to == text.length()) {
            if (append == null) {
                return separator ? text + "&scope=" + encodedScope : text + "scope=" + encodedScope;
            }
            return separator ? text + "&scope=" + encodedScope + append : text + "scope=" + encodedScope + append;
        }
        StringBuilder out = new StringBuilder(text.length() + 7 + encodedScope.length()
                + (append == null ? 0 : append.length()));
        out.append(text, 0, to);
        if (separator) {
            out.append('&');
        }
        out.append(OAuthParams.SCOPE).append('=').append(encodedScope);
        if (append != null) {
            out.append(append);
        }
        return out.append(text, to, text.length()).toString();
    }

    /** Does not print the text: it may carry secrets (see {@link OAuthParams#isSecret}). */
    @Override
    public String toString() {
        return "AuthorizationParams[client_id=" + clientIdCount + ", scope=" + scopeCount + ", malformed="
                + malformed + "]";
    }
}
