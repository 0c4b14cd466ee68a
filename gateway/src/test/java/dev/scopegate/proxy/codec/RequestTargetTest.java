package dev.scopegate.proxy.codec;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every byte at every position of a valid target is accepted or refused as the RFC 3986 grammar
 * (here a regular expression written from the ABNF, not from the gateway's table) says, except
 * that bytes {@code 0x80}–{@code 0xFF} are accepted as they came.
 */
class RequestTargetTest {

    // RFC 3986 §2.1-2.3 and §3.3-3.4, RFC 9112 §3.2.1:
    //   pchar         = unreserved / pct-encoded / sub-delims / ":" / "@"
    //   unreserved    = ALPHA / DIGIT / "-" / "." / "_" / "~"
    //   sub-delims    = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
    //   pct-encoded   = "%" HEXDIG HEXDIG
    //   origin-form   = absolute-path [ "?" query ];  absolute-path = 1*( "/" segment );  segment = *pchar
    //   query         = *( pchar / "/" / "?" )
    // plus the gateway's exception: any byte 0x80-0xFF stands for itself.
    private static final String PCHAR = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2}|[\\x80-\\xFF])";
    private static final String QUERY = "(?:" + PCHAR + "|[/?])*";
    private static final String ORIGIN = "(?:/" + PCHAR + "*)+(?:\\?" + QUERY + ")?";
    /** absolute-form: the authority may hold anything but controls, SP and DEL; it ends at "/" or "?". */
    private static final String ABSOLUTE = "(?i:https?)://[^\\x00-\\x20\\x7F/?]*(?:" + ORIGIN + "|\\?" + QUERY + ")?";
    private static final Pattern ORIGIN_FORM = Pattern.compile(ORIGIN);
    private static final Pattern ABSOLUTE_FORM = Pattern.compile(ABSOLUTE);

    /** What the lead's rule lists as refused in a path or query (besides a bad '%'). */
    private static boolean listedAsRefused(int b) {
        return b <= 0x20 || b == 0x7F || "\"#<>[\\]^`{|}".indexOf(b) >= 0;
    }

    private static boolean expected(String target) {
        return ORIGIN_FORM.matcher(target).matches() || ABSOLUTE_FORM.matcher(target).matches();
    }

    @Test
    void theGrammarAndTheListedRuleAgreeOnEveryByte() {
        for (int b = 0; b < 256; b++) {
            if (b == '%') {
                continue; // valid only as an escape: covered by the properties
            }
            String target = "/a" + (char) b + "b?c" + (char) b + "d";
            assertThat(expected(target)).as("byte 0x%02X", b).isEqualTo(!listedAsRefused(b));
        }
    }

    @Property(tries = 100)
    void everyByteAtEveryPositionOfAnOriginFormTarget(@ForAll("originForm") String target) {
        assertThat(ORIGIN_FORM.matcher(target).matches()).as("generator: %s", target).isTrue();
        assertThat(insertEveryByteEverywhere(target)).isEmpty();
    }

    @Property(tries = 60)
    void everyByteAtEveryPositionOfAnAbsoluteFormTarget(@ForAll("absoluteForm") String target) {
        assertThat(ABSOLUTE_FORM.matcher(target).matches()).as("generator: %s", target).isTrue();
        assertThat(insertEveryByteEverywhere(target)).isEmpty();
    }

    @Test
    void everyByteAtEveryPositionOfAnAuthorizationRequest() {
        String target = "/oauth/authorize?response_type=code&client_id=c-1&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fcb"
                + "&state=s%7E1&code_challenge=usJfT28XGmDt-_~&code_challenge_method=S256&resource=https://mcp.example/x?y"
                + "&login_hint=J\u00c3\u00bcrgen";
        assertThat(RequestTarget.isValid(target)).isTrue();
        assertThat(insertEveryByteEverywhere(target)).isEmpty();
    }

    @Test
    void examples() {
        assertThat(RequestTarget.isValid("/")).isTrue();
        assertThat(RequestTarget.isValid("/a?")).isTrue();
        assertThat(RequestTarget.isValid("/a?b=%41%6a")).isTrue();
        assertThat(RequestTarget.isValid("/caf\u00c3\u00a9?x=\u00ff\u0080")).isTrue();
        assertThat(RequestTarget.isValid("HTTP://idp.example:8081")).isTrue();
        assertThat(RequestTarget.isValid("https://idp.example?q=1")).isTrue();

        assertThat(RequestTarget.isValid("")).isFalse();
        assertThat(RequestTarget.isValid("*")).isFalse();
        assertThat(RequestTarget.isValid("idp.example:443")).isFalse();
        assertThat(RequestTarget.isValid("ftp://idp.example/a")).isFalse();
        assertThat(RequestTarget.isValid("/a\u0000b")).isFalse();
        assertThat(RequestTarget.isValid("/a?b=\u0001")).isFalse();
        assertThat(RequestTarget.isValid("/a\u007f")).isFalse();
        assertThat(RequestTarget.isValid("/a#frag")).isFalse();
        assertThat(RequestTarget.isValid("/a?b=c|d")).isFalse();
        assertThat(RequestTarget.isValid("/a%")).isFalse();
        assertThat(RequestTarget.isValid("/a%4")).isFalse();
        assertThat(RequestTarget.isValid("/a%4g")).isFalse();
        assertThat(RequestTarget.isValid("/a%%41")).isFalse();
        assertThat(RequestTarget.isValid("/a%\u00c3\u00a9")).isFalse();
        assertThat(RequestTarget.isValid("http://idp.\u0000example/a")).isFalse();
        assertThat(RequestTarget.isValid("http://idp.example/a\u0000")).isFalse();
    }

    /** The inserted targets where the check and the grammar disagree ("expected: ..." lines). */
    private static List<String> insertEveryByteEverywhere(String target) {
        List<String> wrong = new ArrayList<>();
        StringBuilder sb = new StringBuilder(target.length() + 1);
        for (int pos = 0; pos <= target.length(); pos++) {
            for (int b = 0; b < 256; b++) {
                sb.setLength(0);
                sb.append(target, 0, pos).append((char) b).append(target, pos, target.length());
                String s = sb.toString();
                boolean want = expected(s);
                if (RequestTarget.isValid(s) != want) {
                    wrong.add(String.format("0x%02X at %d of %s: expected %s", b, pos, target, want ? "accepted" : "refused"));
                }
            }
        }
        return wrong;
    }

    // ---- generators: valid targets only, from the same grammar ----

    private static final String PCHAR_ASCII = "ABCXYZabcxyz0189-._~!$&'()*+,;=:@";

    private static Arbitrary<String> pchar() {
        Arbitrary<String> plain = Arbitraries.of(PCHAR_ASCII.chars().mapToObj(c -> String.valueOf((char) c)).toList());
        Arbitrary<String> escape = Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofLength(2).map(h -> "%" + h);
        Arbitrary<String> high = Arbitraries.chars().range('\u0080', '\u00ff').map(String::valueOf);
        return Arbitraries.frequencyOf(
                Tuple.of(6, plain), Tuple.of(2, escape), Tuple.of(1, high));
    }

    private static Arbitrary<String> path() {
        Arbitrary<String> segment = pchar().list().ofMaxSize(6).map(l -> "/" + String.join("", l));
        return segment.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join("", l));
    }

    private static Arbitrary<String> query() {
        Arbitrary<String> piece = Arbitraries.oneOf(pchar(), Arbitraries.of("/", "?"));
        return piece.list().ofMaxSize(12).map(l -> "?" + String.join("", l));
    }

    @Provide
    Arbitrary<String> originForm() {
        return Combinators.combine(path(), Arbitraries.oneOf(query(), Arbitraries.just("")))
                .as((p, q) -> p + q);
    }

    @Provide
    Arbitrary<String> absoluteForm() {
        Arbitrary<String> scheme = Arbitraries.of("http://", "https://", "HTTP://", "hTTpS://");
        Arbitrary<String> authority = Arbitraries.of("idp.example", "idp.example:8081", "127.0.0.1:1", "[::1]:8443", "x");
        Arbitrary<String> rest = Arbitraries.oneOf(originForm(), query(), Arbitraries.just(""));
        return Combinators.combine(scheme, authority, rest).as((s, a, r) -> s + a + r);
    }
}
