package dev.scopegate.oauth;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads and completes the challenges of one {@code WWW-Authenticate} field value (RFC 9110 §11.6.1:
 * {@code #challenge}, each {@code auth-scheme [ 1*SP ( token68 / #auth-param ) ]}, auth-param values
 * a token or a quoted-string with {@code \} escapes, empty list elements allowed).
 *
 * <p>{@link #complete} adds what an MCP client needs to find the authorization server and the scope
 * to ask for (RFC 9728 §5.1 {@code resource_metadata}, RFC 6750 §3 {@code scope}) to the
 * {@code Bearer} challenges that lack them, and nothing else: every other byte of the value stays
 * where it was, other schemes are never touched, a parameter already present (whatever its value)
 * is never added again (RFC 6750 §3: no repeats), and a value that does not parse is returned
 * unchanged. Pure functions; thread-safe.
 */
public final class BearerChallenges {

    /** One challenge as parsed: {@code token68} or {@code params}, never both. */
    public record Challenge(String scheme, /* nullable */ String token68, List<Param> params) {
        /** The unquoted value of the first parameter {@code name} (case-insensitive), or null. */
        public /* nullable */ String param(String name) {
            for (Param p : params) {
                if (p.name().equalsIgnoreCase(name)) {
                    return p.value();
                }
            }
            return null;
        }
    }

    /** An auth-param; {@code value} unquoted (escapes resolved). */
    public record Param(String name, String value) {}

    /** Which challenges get what: the answer's status decides (see {@link #complete}). */
    public enum Status { UNAUTHORIZED, FORBIDDEN }

    private static final String BEARER = "bearer";

    private BearerChallenges() {
    }

    /**
     * {@code value} with {@code resource_metadata="<resourceMetadata>"} and {@code scope="<scope>"}
     * appended to each {@code Bearer} challenge that has neither token68 nor that parameter. For
     * {@link Status#FORBIDDEN}, only {@code scope}, and only to challenges with
     * {@code error="insufficient_scope"} (RFC 6750 §3.1). A {@code Bearer} without parameters gets
     * them after one space; otherwise after its last parameter, behind {@code ", "}.
     *
     * @param resourceMetadata the metadata document's URL, or null to add none
     * @param scope            space-separated scopes, or null/empty to add none
     * @return {@code value} itself when nothing is added (no Bearer challenge, all present, a value
     *     that does not parse)
     */
    public static String complete(String value, Status status, /* nullable */ String resourceMetadata,
                                  /* nullable */ String scope) {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(status, "status");
        if (!mentionsBearer(value)) {
            return value; // the cheap common case: no parse at all
        }
        List<Span> spans = scan(value);
        if (spans == null) {
            return value;
        }
        boolean addScope = scope != null && !scope.isEmpty();
        StringBuilder out = null;
        int copied = 0;
        for (Span s : spans) {
            Challenge c = s.challenge();
            if (!c.scheme().equalsIgnoreCase(BEARER) || c.token68() != null) {
                continue;
            }
            boolean forbidden = status == Status.FORBIDDEN;
            if (forbidden && !"insufficient_scope".equals(c.param("error"))) {
                continue;
            }
            boolean metadata = !forbidden && resourceMetadata != null && c.param("resource_metadata") == null;
            boolean withScope = addScope && c.param("scope") == null;
            if (!metadata && !withScope) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(value.length() + 64 + (scope == null ? 0 : scope.length())
                        + (resourceMetadata == null ? 0 : resourceMetadata.length()));
            }
            out.append(value, copied, s.insertAt());
            copied = s.insertAt();
            boolean first = c.params().isEmpty();
            if (metadata) {
                out.append(first ? " " : ", ");
                appendParam(out, "resource_metadata", resourceMetadata);
                first = false;
            }
            if (withScope) {
                out.append(first ? " " : ", ");
                appendParam(out, "scope", scope);
            }
        }
        if (out == null) {
            return value;
        }
        return out.append(value, copied, value.length()).toString();
    }

    /** The challenges of {@code value}, or null when it does not parse (RFC 9110 §11.6.1). */
    public static /* nullable */ List<Challenge> parse(String value) {
        List<Span> spans = scan(value);
        if (spans == null) {
            return null;
        }
        List<Challenge> out = new ArrayList<>(spans.size());
        spans.forEach(s -> out.add(s.challenge()));
        return out;
    }

    /** {@code name="value"} with {@code "} and {@code \} escaped. */
    static void appendParam(StringBuilder out, String name, String value) {
        out.append(name).append("=\"");
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch == '"' || ch == '\\') {
                out.append('\\');
            }
            out.append(ch);
        }
        out.append('"');
    }

    private static boolean mentionsBearer(String value) {
        int n = value.length() - BEARER.length();
        for (int i = 0; i <= n; i++) {
            if ((value.charAt(i) | 0x20) == 'b' && value.regionMatches(true, i, BEARER, 0, BEARER.length())) {
                return true;
            }
        }
        return false;
    }

    /** A parsed challenge and where parameters would be appended to it (the end of its last element). */
    private record Span(Challenge challenge, int insertAt) {}

    private static /* nullable */ List<Span> scan(String s) {
        List<Span> out = new ArrayList<>(2);
        int n = s.length();
        int i = skipSeparators(s, 0);
        while (i < n) {
            int schemeEnd = tokenEnd(s, i);
            if (schemeEnd == i) {
                return null;
            }
            String scheme = s.substring(i, schemeEnd);
            int j = skipOws(s, schemeEnd);
            if (j == n || s.charAt(j) == ',') {
                out.add(new Span(new Challenge(scheme, null, List.of()), schemeEnd));
                i = skipSeparators(s, j);
                continue;
            }
            if (s.charAt(schemeEnd) != ' ') {
                return null; // RFC 9110: 1*SP between the scheme and what follows
            }
            int t68 = token68End(s, j);
            if (t68 > j) {
                int after = skipOws(s, t68);
                if (after == n || s.charAt(after) == ',') {
                    out.add(new Span(new Challenge(scheme, s.substring(j, t68), List.of()), t68));
                    i = skipSeparators(s, after);
                    continue;
                }
            }
            List<Param> params = new ArrayList<>(4);
            int end;
            int p = j;
            while (true) {
                int nameEnd = tokenEnd(s, p);
                if (nameEnd == p) {
                    return null;
                }
                int eq = skipOws(s, nameEnd);
                if (eq == n || s.charAt(eq) != '=') {
                    return null;
                }
                int v = skipOws(s, eq + 1);
                String raw;
                int valueEnd;
                if (v < n && s.charAt(v) == '"') {
                    valueEnd = quotedEnd(s, v);
                    if (valueEnd < 0) {
                        return null;
                    }
                    raw = unquote(s, v, valueEnd);
                } else {
                    valueEnd = tokenEnd(s, v);
                    if (valueEnd == v) {
                        return null;
                    }
                    raw = s.substring(v, valueEnd);
                }
                params.add(new Param(s.substring(p, nameEnd), raw));
                end = valueEnd;
                int after = skipOws(s, valueEnd);
                if (after == n) {
                    i = n;
                    break;
                }
                if (s.charAt(after) != ',') {
                    return null;
                }
                int next = skipSeparators(s, after);
                if (next == n) {
                    i = n;
                    break;
                }
                if (startsParam(s, next)) {
                    p = next;
                    continue;
                }
                i = next; // a new challenge begins
                break;
            }
            out.add(new Span(new Challenge(scheme, null, List.copyOf(params)), end));
        }
        return out;
    }

    /** At {@code at} a token followed by BWS "=": a parameter (else a new challenge's scheme). */
    private static boolean startsParam(String s, int at) {
        int end = tokenEnd(s, at);
        if (end == at) {
            return false;
        }
        int eq = skipOws(s, end);
        return eq < s.length() && s.charAt(eq) == '=';
    }

    private static int skipOws(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
            i++;
        }
        return i;
    }

    /** Skips OWS and commas: the empty elements a list may hold (RFC 9110 §5.6.1). */
    private static int skipSeparators(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == ',')) {
            i++;
        }
        return i;
    }

    private static int tokenEnd(String s, int i) {
        while (i < s.length() && isTchar(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** {@code 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="}; {@code i} when none. */
    private static int token68End(String s, int i) {
        int start = i;
        while (i < s.length() && isToken68Char(s.charAt(i))) {
            i++;
        }
        if (i == start) {
            return start;
        }
        while (i < s.length() && s.charAt(i) == '=') {
            i++;
        }
        return i;
    }

    /** The index after the closing quote of the quoted-string opening at {@code i}, or -1. */
    private static int quotedEnd(String s, int i) {
        for (int k = i + 1; k < s.length(); k++) {
            char ch = s.charAt(k);
            if (ch == '"') {
                return k + 1;
            }
            if (ch == '\\') {
                k++;
                if (k == s.length() || !isQuotable(s.charAt(k))) {
                    return -1;
                }
            } else if (!isQdtext(ch)) {
                return -1;
            }
        }
        return -1;
    }

    private static String unquote(String s, int open, int end) {
        StringBuilder b = new StringBuilder(end - open);
        for (int k = open + 1; k < end - 1; k++) {
            char ch = s.charAt(k);
            if (ch == '\\') {
                ch = s.charAt(++k);
            }
            b.append(ch);
        }
        return b.toString();
    }

    static boolean isTchar(char c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        return "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    static boolean isToken68Char(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    }

    /** qdtext: HTAB, SP, %x21, %x23-5B, %x5D-7E, obs-text (%x80-FF). */
    private static boolean isQdtext(char c) {
        return c == '\t' || c == ' ' || c == 0x21 || c >= 0x23 && c <= 0x5B || c >= 0x5D && c <= 0x7E
                || c >= 0x80 && c <= 0xFF;
    }

    /** quoted-pair: "\" ( HTAB / SP / VCHAR / obs-text ). */
    private static boolean isQuotable(char c) {
        return c == '\t' || c == ' ' || c >= 0x21 && c <= 0x7E || c >= 0x80 && c <= 0xFF;
    }
}
