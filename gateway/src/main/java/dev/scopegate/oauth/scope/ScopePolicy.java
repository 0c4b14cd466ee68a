package dev.scopegate.oauth.scope;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The policy every candidate goes through (DESIGN §3): split, drop invalid tokens, dedupe, deny,
 * only-supported; joined with single spaces. Immutable; any thread.
 *
 * <p>Hot path: a candidate the policy leaves as it is (the usual registered scope) is returned as
 * the same instance; otherwise one builder is allocated. Nothing else is allocated unless cuts
 * are being recorded or a candidate has more than {@link #SET_THRESHOLD} tokens. Recent answers
 * are remembered per (candidate, supported) instance pair, so a client's scope is scanned once,
 * not on every request; a reload builds a new policy with an empty memory.
 */
final class ScopePolicy {

    /** Beyond this many accepted tokens, dedupe through a hash set rather than by scanning. */
    private static final int SET_THRESHOLD = 16;
    /** log2 of the answers remembered (a direct-mapped table; a collision only costs a recompute). */
    private static final int MEMO_BITS = 6;

    private final Memo[] memo = new Memo[1 << MEMO_BITS];

    private final DenyRule[] deny;
    private final boolean onlySupported;
    private final boolean acceptCommas;

    ScopePolicy(List<String> deny, boolean onlySupported, boolean acceptCommas) {
        List<DenyRule> rules = new ArrayList<>();
        for (String d : deny) {
            String p = d == null ? "" : d.strip();
            if (!p.isEmpty()) {
                rules.add(new DenyRule(p));
            }
        }
        this.deny = rules.toArray(new DenyRule[0]);
        this.onlySupported = onlySupported;
        this.acceptCommas = acceptCommas;
    }

    /**
     * The policy's result for {@code candidate}, or null when nothing survives.
     *
     * @param supported the IdP's {@code scopes_supported}; null or empty means unknown (no filtering)
     * @param cuts      receives every dropped token with its reason; null on the hot path
     */
    String apply(String candidate, List<String> supported, List<Explanation.Cut> cuts) {
        if (cuts != null) {
            return compute(candidate, supported, cuts);
        }
        // The same few candidates (a client's registered scope, the default) come back on every
        // request, with the same scopes_supported list: remember recent answers by identity.
        int slot = (candidate.hashCode() * 0x9E3779B9) >>> (32 - MEMO_BITS);
        Memo m = memo[slot];
        if (m != null && m.candidate == candidate && m.supported == supported) {
            return m.result;
        }
        String result = compute(candidate, supported, null);
        memo[slot] = new Memo(candidate, supported, result);
        return result;
    }

    /** One remembered answer; immutable, so a racy read of the table sees a whole entry or none. */
    private record Memo(String candidate, List<String> supported, String result) {
    }

    private String compute(String candidate, List<String> supported, List<Explanation.Cut> cuts) {
        boolean filter = onlySupported && supported != null && !supported.isEmpty();
        int n = candidate.length();
        StringBuilder out = null;   // null while the output is candidate[0, same)
        int same = 0;
        int count = 0;
        Set<String> seen = null;
        int i = 0;
        while (i < n) {
            while (i < n && isSeparator(candidate.charAt(i))) {
                i++;
            }
            if (i == n) {
                break;
            }
            int s = i;
            while (i < n && !isSeparator(candidate.charAt(i))) {
                i++;
            }
            int e = i;

            Explanation.CutReason why = null;
            String rule = null;
            if (!validToken(candidate, s, e)) {
                why = Explanation.CutReason.INVALID;
            } else if (seen != null ? seen.contains(candidate.substring(s, e))
                    : containsToken(out != null ? out : candidate, out != null ? out.length() : same, candidate, s, e)) {
                why = Explanation.CutReason.DUPLICATE;
            } else if ((rule = deniedBy(candidate, s, e)) != null) {
                why = Explanation.CutReason.DENIED;
            } else if (filter && !listed(supported, candidate, s, e)) {
                why = Explanation.CutReason.UNSUPPORTED;
            }
            if (why != null) {
                if (cuts != null) {
                    cuts.add(new Explanation.Cut(candidate.substring(s, e), why, rule));
                }
                continue;
            }

            if (out == null) {
                boolean contiguous = count == 0 ? s == 0 : s == same + 1 && candidate.charAt(same) == ' ';
                if (!contiguous) {
                    out = new StringBuilder(n);
                    out.append(candidate, 0, same);
                }
            }
            if (out == null) {
                same = e;
            } else {
                if (count > 0) {
                    out.append(' ');
                }
                out.append(candidate, s, e);
            }
            count++;
            if (seen != null) {
                seen.add(candidate.substring(s, e));
            } else if (count == SET_THRESHOLD) {
                seen = tokens(out != null ? out : candidate, out != null ? out.length() : same);
            }
        }
        if (count == 0) {
            return null;
        }
        if (out != null) {
            return out.toString();
        }
        return same == n ? candidate : candidate.substring(0, same);
    }

    private boolean isSeparator(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B
                || (c == ',' && acceptCommas);
    }

    /** RFC 6749 §3.3: {@code scope-token = 1*( %x21 / %x23-5B / %x5D-7E )}. */
    private static boolean validToken(String s, int from, int to) {
        for (int k = from; k < to; k++) {
            char c = s.charAt(k);
            if (c < 0x21 || c > 0x7E || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    private String deniedBy(String s, int from, int to) {
        for (DenyRule r : deny) {
            if (r.matches(s, from, to)) {
                return r.pattern();
            }
        }
        return null;
    }

    private static boolean listed(List<String> supported, String s, int from, int to) {
        int len = to - from;
        for (int k = 0, size = supported.size(); k < size; k++) {
            String sup = supported.get(k);
            if (sup.length() == len && s.regionMatches(from, sup, 0, len)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code src[from, to)} is one of the single-space-separated tokens of {@code acc[0, accLen)}. */
    private static boolean containsToken(CharSequence acc, int accLen, String src, int from, int to) {
        int len = to - from;
        int t = 0;
        while (t < accLen) {
            int end = t;
            while (end < accLen && acc.charAt(end) != ' ') {
                end++;
            }
            if (end - t == len && regionEquals(acc, t, src, from, len)) {
                return true;
            }
            t = end + 1;
        }
        return false;
    }

    private static boolean regionEquals(CharSequence a, int at, String b, int from, int len) {
        for (int k = 0; k < len; k++) {
            if (a.charAt(at + k) != b.charAt(from + k)) {
                return false;
            }
        }
        return true;
    }

    private static Set<String> tokens(CharSequence acc, int accLen) {
        Set<String> set = new HashSet<>();
        int t = 0;
        while (t < accLen) {
            int end = t;
            while (end < accLen && acc.charAt(end) != ' ') {
                end++;
            }
            set.add(acc.subSequence(t, end).toString());
            t = end + 1;
        }
        return set;
    }
}
