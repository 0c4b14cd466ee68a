package dev.scopegate.oauth.scope;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ScopePolicy} and {@link DenyRule} against naive reference implementations. */
class ScopePolicyTest {

    static final String[] WORDS = {"a", "b", "ab", "ba", "aab", "read", "write", "admin:all", "x,y", "caf\u00e9",
            "q\"", ""};
    static final String[] SEPARATORS = {" ", "  ", ",", "\t", "\n", ", "};
    static final String[] DENY = {"a", "a*", "*b", "a*b", "*a*", "b*a*b", "**", "read", "ad*:*l", "*"};

    @Test
    void matchesAReferenceImplementationOnRandomInput() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            List<String> deny = new ArrayList<>();
            for (int k = random.nextInt(3); k > 0; k--) {
                deny.add(DENY[random.nextInt(DENY.length)]);
            }
            boolean commas = random.nextBoolean();
            boolean only = random.nextBoolean();
            List<String> supported = random.nextInt(3) == 0 ? null
                    : List.of("a", "b", "ab", "read", "write", "admin:all", "x,y", "t0", "t5", "t33");
            StringBuilder candidate = new StringBuilder();
            int n = random.nextInt(4) == 0 ? 60 : 6; // long candidates exercise the hash-set dedupe
            for (int k = random.nextInt(n); k > 0; k--) {
                candidate.append(random.nextInt(4) == 0 ? "t" + random.nextInt(40) : WORDS[random.nextInt(WORDS.length)]);
                candidate.append(SEPARATORS[random.nextInt(SEPARATORS.length)]);
            }
            String c = random.nextBoolean() ? candidate.toString().strip() : candidate.toString();
            ScopePolicy policy = new ScopePolicy(deny, only, commas);
            List<Explanation.Cut> cuts = new ArrayList<>();
            String actual = policy.apply(c, supported, cuts);
            String expected = reference(c, deny, only, commas, supported);
            assertThat(actual).as("%s deny=%s only=%s commas=%s", c, deny, only, commas).isEqualTo(expected);
            assertThat(policy.apply(c, supported, null)).isEqualTo(expected);
            int tokens = c.isBlank() ? 0 : (int) Arrays.stream(c.split(commas ? "[\\s,]+" : "\\s+"))
                    .filter(s -> !s.isEmpty()).count();
            int kept = expected == null ? 0 : expected.split(" ").length;
            assertThat(cuts).hasSize(tokens - kept);
        }
    }

    static String reference(String c, List<String> deny, boolean only, boolean commas, List<String> supported) {
        Set<String> out = new LinkedHashSet<>();
        for (String t : c.split(commas ? "[ \\t\\n\\r\\f\\x0B,]+" : "[ \\t\\n\\r\\f\\x0B]+")) {
            if (t.isEmpty() || !t.matches("[\\x21\\x23-\\x5B\\x5D-\\x7E]+")) {
                continue;
            }
            if (deny.stream().anyMatch(d -> glob(d).matcher(t).matches())) {
                continue;
            }
            if (only && supported != null && !supported.isEmpty() && !supported.contains(t)) {
                continue;
            }
            out.add(t);
        }
        return out.isEmpty() ? null : String.join(" ", out);
    }

    static Pattern glob(String d) {
        return Pattern.compile(Arrays.stream(d.split("\\*", -1)).map(Pattern::quote).collect(Collectors.joining(".*")));
    }

    @Test
    void denyRuleMatchesRegions() {
        DenyRule rule = new DenyRule("a*b*a");
        String s = "xx abba aba aa ab";
        assertThat(rule.matches(s, 3, 7)).isTrue();
        assertThat(rule.matches(s, 8, 11)).isTrue();
        assertThat(rule.matches(s, 12, 14)).isFalse();
        assertThat(rule.matches(s, 15, 17)).isFalse();
        Random random = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            String pattern = randomOf(random, "ab*", 5);
            String text = randomOf(random, "ab", 7);
            assertThat(new DenyRule(pattern).matches("<" + text + ">", 1, text.length() + 1))
                    .as("%s ~ %s", pattern, text).isEqualTo(glob(pattern).matcher(text).matches());
        }
    }

    static String randomOf(Random random, String alphabet, int maxLength) {
        StringBuilder b = new StringBuilder();
        for (int k = random.nextInt(maxLength + 1); k > 0; k--) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** One policy, as the resolver keeps it: its memory of recent answers never answers for another pair. */
    @Test
    void aLongLivedPolicyAnswersEveryPairAsAFreshOne() {
        Random random = new Random(13);
        List<String> deny = List.of("a*b");
        ScopePolicy policy = new ScopePolicy(deny, true, false);
        List<List<String>> supportedLists = List.of(List.of("a", "b", "read"), List.of("write", "t1", "t2", "ab"),
                List.of("read", "write"));
        String[] candidates = new String[40];
        for (int i = 0; i < candidates.length; i++) {
            StringBuilder c = new StringBuilder();
            for (int k = random.nextInt(5); k > 0; k--) {
                c.append(random.nextInt(3) == 0 ? "t" + random.nextInt(4) : WORDS[random.nextInt(WORDS.length)]).append(' ');
            }
            candidates[i] = c.toString();
        }
        for (int i = 0; i < 50_000; i++) {
            String c = candidates[random.nextInt(candidates.length)];
            if (random.nextInt(4) == 0) {
                c = new String(c); // equal text, another instance
            }
            List<String> supported = random.nextInt(5) == 0 ? null : supportedLists.get(random.nextInt(supportedLists.size()));
            assertThat(policy.apply(c, supported, null)).as("%s %s", c, supported)
                    .isEqualTo(reference(c, deny, true, false, supported));
        }
    }

    @Test
    void unchangedCandidatesAreNotCopied() {
        ScopePolicy policy = new ScopePolicy(List.of("z"), true, true);
        String c = new String("a b c");
        assertThat(policy.apply(c, List.of("a", "b", "c"), null)).isSameAs(c);
        assertThat(policy.apply(c, null, null)).isSameAs(c);
    }
}
