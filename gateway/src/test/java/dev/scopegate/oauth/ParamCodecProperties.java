package dev.scopegate.oauth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * Generated queries and form bodies mix every spelling a client may use ({@code +} and
 * {@code %20}, either hex case, raw UTF-8 bytes, empty and valueless parameters, empty segments);
 * the rewrite must keep all of them byte for byte.
 */
class ParamCodecProperties {

    /** A generated raw piece and what it must decode to. */
    record Enc(String raw, String decoded) {
    }

    /** One raw segment between {@code &}s; {@code name == null} for an empty segment. */
    record Seg(String raw, String name, String value) {
    }

    /** A generated input: its segments in order and which one (if any) is the blank scope. */
    record Query(List<Seg> segs, int scopeIndex) {
        String raw() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < segs.size(); i++) {
                sb.append(i == 0 ? "" : "&").append(segs.get(i).raw());
            }
            return sb.toString();
        }

        /** Offset of segment {@code i} in {@link #raw()}. */
        int offsetOf(int i) {
            int off = 0;
            for (int j = 0; j < i; j++) {
                off += segs.get(j).raw().length() + 1;
            }
            return off;
        }
    }

    // ---- properties ----

    @Property
    void withScopeChangesOnlyTheScope(@ForAll("queries") Query q, @ForAll("scopes") String s) {
        String raw = q.raw();
        Params before = ParamCodec.parse(raw);
        assertThat(before.malformed()).isFalse();

        String after = before.withScope(s);

        // (a) every other segment is kept byte for byte, in order
        assertThat(otherSegments(after)).isEqualTo(otherSegments(raw));
        // (b) exactly one scope, with the value asked for
        Params reparsed = ParamCodec.parse(after);
        assertThat(reparsed.count(OAuthParams.SCOPE)).isEqualTo(1);
        assertThat(reparsed.first(OAuthParams.SCOPE)).isEqualTo(s);
        assertThat(reparsed.malformed()).isFalse();
        // (c) the only difference is the appended segment or the replaced value
        String added;
        if (q.scopeIndex() < 0) {
            String sep = raw.isEmpty() || raw.endsWith("&") ? "" : "&";
            assertThat(after).startsWith(raw + sep + "scope=");
            added = after.substring(raw.length() + sep.length() + "scope=".length());
        } else {
            int from = q.offsetOf(q.scopeIndex());
            String seg = q.segs().get(q.scopeIndex()).raw();
            int eq = seg.indexOf('=');
            String keep = eq < 0 ? seg + "=" : seg.substring(0, eq + 1);
            String tail = raw.substring(from + seg.length());
            assertThat(after).startsWith(raw.substring(0, from) + keep).endsWith(tail);
            added = after.substring(from + keep.length(), after.length() - tail.length());
        }
        assertThat(added).matches("([A-Za-z0-9._~-]|%[0-9A-F]{2})*");
        assertThat(URLDecoder.decode(added, StandardCharsets.UTF_8)).isEqualTo(s);
    }

    @Property(tries = 500)
    void decodesEveryNameAndValueAsGenerated(@ForAll("queries") Query q) {
        Params p = ParamCodec.parse(q.raw());

        List<String> expected = new ArrayList<>();
        for (Seg seg : q.segs()) {
            if (seg.name() != null) {
                expected.add(seg.name() + "\u0000" + seg.value());
            }
        }
        List<String> actual = new ArrayList<>();
        for (int i = 0; i < p.size(); i++) {
            actual.add(p.name(i) + "\u0000" + p.value(i));
        }
        assertThat(actual).isEqualTo(expected);
        for (Seg seg : q.segs()) {
            if (seg.name() != null) {
                assertThat(p.count(seg.name())).isPositive();
            }
        }
    }

    @Property(tries = 500)
    void firstAgreesWithUrlDecoderOnWellFormedValues(@ForAll("asciiValues") Enc value, @ForAll("asciiNames") Enc name) {
        Params p = ParamCodec.parse(name.raw() + "=" + value.raw() + "&" + name.raw() + "=other");

        assertThat(p.malformed()).isFalse();
        assertThat(p.first(URLDecoder.decode(name.raw(), StandardCharsets.UTF_8)))
                .isEqualTo(URLDecoder.decode(value.raw(), StandardCharsets.UTF_8));
    }

    @Property(tries = 500)
    void flagsMalformedInputAndLeavesItAlone(@ForAll("queries") Query q, @ForAll("badTokens") String bad,
            @ForAll int where) {
        List<Seg> segs = new ArrayList<>(q.segs());
        if (segs.isEmpty()) {
            segs.add(new Seg(bad, null, null));
        } else {
            int i = Math.floorMod(where, segs.size());
            // At the end of a segment the token cannot combine with what follows into valid UTF-8.
            segs.set(i, new Seg(segs.get(i).raw() + bad, null, null));
        }
        String raw = new Query(segs, -1).raw();

        Params p = ParamCodec.parse(raw);

        assertThat(p.malformed()).isTrue();
        assertThat(p.raw()).isSameAs(raw);
        for (int i = 0; i < p.size(); i++) {
            assertThat(p.name(i)).isNotNull();
            assertThat(p.value(i)).isNotNull();
        }
    }

    @Property(tries = 500)
    void neverThrowsOnArbitraryText(@ForAll("anyText") String raw, @ForAll("scopes") String s) {
        Params p = ParamCodec.parse(raw);

        assertThat(p.raw()).isSameAs(raw);
        for (int i = 0; i < p.size(); i++) {
            assertThat(p.count(p.name(i))).isPositive();
            assertThat(p.value(i)).isNotNull();
        }
        if (p.count(OAuthParams.SCOPE) == 0) {
            assertThat(p.withScope(s)).startsWith(raw);
        } else if (p.count(OAuthParams.SCOPE) > 1 || !p.first(OAuthParams.SCOPE).isBlank()) {
            assertThatThrownBy(() -> p.withScope(s)).isInstanceOf(IllegalStateException.class);
        } else {
            assertThat(ParamCodec.parse(p.withScope(s)).first(OAuthParams.SCOPE)).isEqualTo(s);
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<Query> queries() {
        Arbitrary<List<Seg>> others = Arbitraries.frequencyOf(
                Tuple.of(8, segments()),
                Tuple.of(1, Arbitraries.just(new Seg("", null, null)))).list().ofMaxSize(8);
        Arbitrary<Seg> blankScope = Arbitraries.of("scope", "scope=", "scope=+", "scope=%20", "sc%6Fpe=",
                "%73cope=%09+%20", "scope=%E3%80%80", "scope=++%0a").map(r -> {
                    int eq = r.indexOf('=');
                    return new Seg(r, OAuthParams.SCOPE, eq < 0 ? "" : ParamCodec.parse(r).first(OAuthParams.SCOPE));
                });
        Arbitrary<Integer> scopeAt = Arbitraries.integers().between(-3, 20); // negative: no scope
        return Combinators.combine(others, blankScope, scopeAt).as((segs, scope, at) -> {
            if (at < 0) {
                return new Query(segs, -1);
            }
            List<Seg> all = new ArrayList<>(segs);
            int index = at % (segs.size() + 1);
            all.add(index, scope);
            return new Query(all, index);
        });
    }

    private Arbitrary<Seg> segments() {
        Arbitrary<Enc> names = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(OAuthParams.RESPONSE_TYPE, OAuthParams.CLIENT_ID, OAuthParams.REDIRECT_URI,
                        OAuthParams.STATE, OAuthParams.CODE_CHALLENGE, OAuthParams.CODE_CHALLENGE_METHOD,
                        OAuthParams.RESOURCE, OAuthParams.NONCE, OAuthParams.PROMPT, OAuthParams.CODE,
                        "scopes", "Scope", "scope_hint").map(n -> new Enc(n, n))),
                Tuple.of(2, encoded(true, false)))
                .filter(n -> !n.decoded().equals(OAuthParams.SCOPE));
        Arbitrary<Enc> values = encoded(false, false);
        Arbitrary<Integer> form = Arbitraries.frequency(Tuple.of(6, 0), Tuple.of(1, 1), Tuple.of(1, 2));
        return Combinators.combine(names, values, form).as((n, v, f) -> switch (f) {
            case 0 -> new Seg(n.raw() + "=" + v.raw(), n.decoded(), v.decoded());
            case 1 -> new Seg(n.raw() + "=", n.decoded(), "");
            default -> n.raw().isEmpty() ? new Seg("", null, null) : new Seg(n.raw(), n.decoded(), "");
        });
    }

    @Provide
    Arbitrary<Enc> asciiValues() {
        return encoded(false, true);
    }

    @Provide
    Arbitrary<Enc> asciiNames() {
        return encoded(true, true);
    }

    @Provide
    Arbitrary<String> scopes() {
        return Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.of("worker:read time-off:read time-off:write contracts:read people:read",
                        "openid profile", "", " ")),
                Tuple.of(3, codePoints().list().ofMaxSize(12).map(ParamCodecProperties::text)));
    }

    @Provide
    Arbitrary<String> badTokens() {
        return Arbitraries.of("%", "%4", "%4G", "%G4", "%zz", "%C3", "%e2%82", "%F0%9F%98", "%80", "%bf", "%FF", "%C0%AF",
                "%E0%80%AF", "%ED%A0%80", "%F4%90%80%80", "%F5%80%80%80", "\u00e9", "\u00c3", "\u0080", "\u20ac",
                "\ud83d\ude00", "%\u0661\u0661");
    }

    @Provide
    Arbitrary<String> anyText() {
        Arbitrary<Character> chars = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of('&', '=', '+', '%', 's', 'c', 'o', 'p', 'e', '2', '0', 'A', 'f')),
                Tuple.of(2, Arbitraries.chars().range('\u0000', '\u00ff')),
                Tuple.of(1, Arbitraries.chars().all()));
        return Arbitraries.frequencyOf(
                Tuple.of(3, chars.list().ofMaxSize(30).map(ParamCodecProperties::chars)),
                Tuple.of(1, Arbitraries.of("scope", "scope=", "scope&scope", "scope=x", "a&&scope=+", "sc%6fpe")));
    }

    /** Text whose raw form spells each code point randomly as allowed (see {@link #spell}). */
    private static Arbitrary<Enc> encoded(boolean inName, boolean asciiOnly) {
        Arbitrary<Integer> style = Arbitraries.integers().between(0, 2);
        return Combinators.combine(codePoints(), style).as((cp, st) -> spell(cp, st, inName, asciiOnly))
                .list().ofMaxSize(10)
                .map(parts -> {
                    StringBuilder raw = new StringBuilder();
                    StringBuilder decoded = new StringBuilder();
                    for (Enc e : parts) {
                        raw.append(e.raw());
                        decoded.append(e.decoded());
                    }
                    return new Enc(raw.toString(), decoded.toString());
                });
    }

    private static Arbitrary<Integer> codePoints() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(0x20, 0x7E)),
                Tuple.of(1, Arbitraries.integers().between(0x00, 0x1F)),
                Tuple.of(3, Arbitraries.of((int) ' ', (int) '+', (int) '%', (int) '&', (int) '=', (int) '#', 0x7F)),
                Tuple.of(2, Arbitraries.integers().between(0x80, 0x7FF)),
                Tuple.of(2, Arbitraries.integers().between(0x800, 0xFFFF).filter(c -> c < 0xD800 || c > 0xDFFF)),
                Tuple.of(1, Arbitraries.integers().between(0x10000, 0x10FFFF)));
    }

    /**
     * One code point as a client may spell it. Style 0: a space as {@code +}, a char that is safe
     * as it is literally, anything else non-ASCII as raw UTF-8 bytes (one char per byte, as in an
     * ISO-8859-1 decoded body) unless {@code asciiOnly}; style 1: upper-case escapes (a space as
     * {@code %20}); style 2: lower-case escapes.
     */
    private static Enc spell(int cp, int style, boolean inName, boolean asciiOnly) {
        String decoded = new String(Character.toChars(cp));
        byte[] bytes = decoded.getBytes(StandardCharsets.UTF_8);
        StringBuilder raw = new StringBuilder();
        if (cp == ' ' && style == 0) {
            raw.append('+');
        } else if (cp < 0x80 && style == 0 && cp != '&' && cp != '+' && cp != '%' && cp != '#' && cp != ' '
                && !(inName && cp == '=')) {
            raw.append((char) cp);
        } else if (cp >= 0x80 && style == 0 && !asciiOnly) {
            for (byte b : bytes) {
                raw.append((char) (b & 0xFF));
            }
        } else {
            for (byte b : bytes) {
                String hex = String.format("%%%02X", b & 0xFF);
                raw.append(style == 2 ? hex.toLowerCase(java.util.Locale.ROOT) : hex);
            }
        }
        return new Enc(raw.toString(), decoded);
    }

    private static String text(List<Integer> codePoints) {
        StringBuilder sb = new StringBuilder();
        codePoints.forEach(sb::appendCodePoint);
        return sb.toString();
    }

    private static String chars(List<Character> chars) {
        StringBuilder sb = new StringBuilder();
        chars.forEach(sb::append);
        return sb.toString();
    }

    /** Non-empty raw segments other than the scope parameter, in order. */
    private static List<String> otherSegments(String raw) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start <= raw.length()) {
            int end = raw.indexOf('&', start);
            if (end < 0) {
                end = raw.length();
            }
            String seg = raw.substring(start, end);
            if (!seg.isEmpty() && ParamCodec.parse(seg).count(OAuthParams.SCOPE) == 0) {
                out.add(seg);
            }
            start = end + 1;
        }
        return out;
    }
}
