package dev.scopegate.oauth.scope;

import java.util.ArrayList;
import java.util.List;

/**
 * One compiled {@code scope.deny} entry: an exact scope, or a glob where {@code *} matches any run
 * of characters (including none) anywhere in the pattern. Case-sensitive, like scopes (RFC 6749
 * §3.3). Matches a region of a string without allocating. Immutable; any thread.
 */
final class DenyRule {

    private final String pattern;
    /** The pattern split on {@code *}; length 1 means an exact match. */
    private final String[] segments;

    DenyRule(String pattern) {
        this.pattern = pattern;
        List<String> parts = new ArrayList<>();
        int from = 0;
        for (int star = pattern.indexOf('*'); star >= 0; star = pattern.indexOf('*', from)) {
            parts.add(pattern.substring(from, star));
            from = star + 1;
        }
        parts.add(pattern.substring(from));
        this.segments = parts.toArray(new String[0]);
    }

    String pattern() {
        return pattern;
    }

    /** Whether {@code s[from, to)} matches. */
    boolean matches(CharSequence s, int from, int to) {
        int len = to - from;
        if (segments.length == 1) {
            return len == pattern.length() && regionEquals(s, from, pattern);
        }
        String first = segments[0];
        String last = segments[segments.length - 1];
        if (len < first.length() + last.length()
                || !regionEquals(s, from, first)
                || !regionEquals(s, to - last.length(), last)) {
            return false;
        }
        // Leftmost placement of each middle segment is optimal when '*' is the only wildcard.
        int pos = from + first.length();
        int end = to - last.length();
        for (int k = 1; k < segments.length - 1; k++) {
            String seg = segments[k];
            if (seg.isEmpty()) {
                continue;
            }
            int at = indexOf(s, seg, pos, end);
            if (at < 0) {
                return false;
            }
            pos = at + seg.length();
        }
        return true;
    }

    private static boolean regionEquals(CharSequence s, int at, String part) {
        for (int i = 0; i < part.length(); i++) {
            if (s.charAt(at + i) != part.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(CharSequence s, String seg, int from, int end) {
        for (int at = from; at + seg.length() <= end; at++) {
            if (regionEquals(s, at, seg)) {
                return at;
            }
        }
        return -1;
    }
}
