package dev.scopegate.oauth;

import static dev.scopegate.oauth.BearerChallenges.Status.FORBIDDEN;
import static dev.scopegate.oauth.BearerChallenges.Status.UNAUTHORIZED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.oauth.BearerChallenges.Challenge;
import dev.scopegate.oauth.BearerChallenges.Param;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Generated {@code WWW-Authenticate} values (RFC 9110 §11.6.1): several challenges, any scheme
 * spelling, token68, parameters with tokens or quoted strings holding escapes, commas and spaces,
 * optional whitespace around {@code =} and commas, empty list elements. Completion must add exactly
 * the missing parameters to Bearer challenges and keep every other byte.
 */
class BearerChallengesProperties {

    static final String MD = "https://gw.example/.well-known/oauth-protected-resource/a/b";
    static final String SCOPE = "files:read files:write";

    /** A generated challenge: its text and what it must parse to. */
    record Gen(String text, Challenge parsed) {}

    record Header(String text, List<Challenge> parsed) {}

    // ---- properties ----

    @Property
    void parsesWhatWasGenerated(@ForAll("headers") Header h) {
        assertThat(BearerChallenges.parse(h.text())).isEqualTo(h.parsed());
    }

    @Property
    void completionAddsExactlyTheMissingParamsToBearerChallenges(@ForAll("headers") Header h) {
        String out = BearerChallenges.complete(h.text(), UNAUTHORIZED, MD, SCOPE);
        List<Challenge> after = BearerChallenges.parse(out);
        assertThat(after).hasSameSizeAs(h.parsed());
        for (int i = 0; i < after.size(); i++) {
            Challenge before = h.parsed().get(i);
            Challenge now = after.get(i);
            List<Param> expected = new ArrayList<>(before.params());
            if (before.scheme().equalsIgnoreCase("bearer") && before.token68() == null) {
                if (before.param("resource_metadata") == null) {
                    expected.add(new Param("resource_metadata", MD));
                }
                if (before.param("scope") == null) {
                    expected.add(new Param("scope", SCOPE));
                }
            }
            assertThat(now).isEqualTo(new Challenge(before.scheme(), before.token68(), expected));
        }
    }

    @Property
    void everyOriginalByteStaysInOrder(@ForAll("headers") Header h) {
        String out = BearerChallenges.complete(h.text(), UNAUTHORIZED, MD, SCOPE);
        // out is the original with insertions only: the original is a subsequence that takes
        // every added piece out whole
        String stripped = out.replace(", resource_metadata=\"" + MD + "\"", "")
                .replace(" resource_metadata=\"" + MD + "\"", "")
                .replace(", scope=\"" + SCOPE + "\"", "")
                .replace(" scope=\"" + SCOPE + "\"", "");
        String original = h.text().replace(", resource_metadata=\"" + MD + "\"", "")
                .replace(" resource_metadata=\"" + MD + "\"", "")
                .replace(", scope=\"" + SCOPE + "\"", "")
                .replace(" scope=\"" + SCOPE + "\"", "");
        assertThat(stripped).isEqualTo(original);
    }

    @Property
    void idempotent(@ForAll("headers") Header h) {
        String once = BearerChallenges.complete(h.text(), UNAUTHORIZED, MD, SCOPE);
        assertThat(BearerChallenges.complete(once, UNAUTHORIZED, MD, SCOPE)).isSameAs(once);
        String forbidden = BearerChallenges.complete(h.text(), FORBIDDEN, MD, SCOPE);
        assertThat(BearerChallenges.complete(forbidden, FORBIDDEN, MD, SCOPE)).isSameAs(forbidden);
    }

    @Property
    void withoutABearerChallengeNothingChanges(@ForAll("headers") Header h) {
        boolean bearer = h.parsed().stream()
                .anyMatch(c -> c.scheme().equalsIgnoreCase("bearer") && c.token68() == null);
        String out = BearerChallenges.complete(h.text(), UNAUTHORIZED, MD, SCOPE);
        assertThat(out == h.text()).isEqualTo(!bearer || h.parsed().stream()
                .filter(c -> c.scheme().equalsIgnoreCase("bearer") && c.token68() == null)
                .allMatch(c -> c.param("scope") != null && c.param("resource_metadata") != null));
    }

    @Property
    void forbiddenOnlyAddsScopeToInsufficientScope(@ForAll("headers") Header h) {
        List<Challenge> after = BearerChallenges.parse(BearerChallenges.complete(h.text(), FORBIDDEN, MD, SCOPE));
        for (int i = 0; i < after.size(); i++) {
            Challenge before = h.parsed().get(i);
            List<Param> expected = new ArrayList<>(before.params());
            if (before.scheme().equalsIgnoreCase("bearer") && before.token68() == null
                    && "insufficient_scope".equals(before.param("error")) && before.param("scope") == null) {
                expected.add(new Param("scope", SCOPE));
            }
            assertThat(after.get(i).params()).isEqualTo(expected);
        }
    }

    @Property(tries = 2000)
    void arbitraryTextNeverThrowsAndIsEitherUnchangedOrParses(@ForAll("noise") String v) {
        String out = BearerChallenges.complete(v, UNAUTHORIZED, MD, SCOPE);
        if (out != v) {
            assertThat(BearerChallenges.parse(v)).isNotNull();
            assertThat(BearerChallenges.parse(out)).isNotNull();
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<String> noise() {
        return Arbitraries.strings().withChars("Bearer Basic=\",\\ \tscope_x\u0001\u00e9").ofMaxLength(40);
    }

    @Provide
    Arbitrary<Header> headers() {
        return Combinators.combine(challenge().list().ofMinSize(1).ofMaxSize(4), separator().list().ofSize(5),
                ows(), ows()).as((cs, seps, lead, trail) -> {
                    StringBuilder sb = new StringBuilder(lead.replace("\t", " "));
                    List<Challenge> parsed = new ArrayList<>();
                    for (int i = 0; i < cs.size(); i++) {
                        if (i > 0) {
                            sb.append(seps.get(i));
                        }
                        sb.append(cs.get(i).text());
                        parsed.add(cs.get(i).parsed());
                    }
                    return new Header(sb.append(trail).toString(), parsed);
                });
    }

    Arbitrary<String> separator() {
        return Arbitraries.of(",", ", ", " ,", " , ", ",\t", ", , ", ",,");
    }

    Arbitrary<String> ows() {
        return Arbitraries.of("", "", " ", "  ", "\t");
    }

    Arbitrary<String> scheme() {
        return Arbitraries.of("Bearer", "bearer", "BEARER", "Basic", "Digest", "DPoP", "Newauth", "Bearer2", "x-Bearer");
    }

    Arbitrary<Gen> challenge() {
        return Arbitraries.oneOf(bare(), withToken68(), withParams());
    }

    Arbitrary<Gen> bare() {
        return scheme().map(s -> new Gen(s, new Challenge(s, null, List.of())));
    }

    Arbitrary<Gen> withToken68() {
        Arbitrary<String> t68 = Combinators.combine(
                Arbitraries.strings().withChars("abcXYZ019-._~+/").ofMinLength(1).ofMaxLength(12),
                Arbitraries.of("", "=", "==")).as(String::concat);
        return Combinators.combine(scheme(), t68).as((s, t) -> new Gen(s + " " + t, new Challenge(s, t, List.of())));
    }

    Arbitrary<Gen> withParams() {
        return Combinators.combine(scheme(), param().list().ofMinSize(1).ofMaxSize(4),
                separator().list().ofSize(4), Arbitraries.of(" ", "  ")).as((s, ps, seps, sp) -> {
                    StringBuilder sb = new StringBuilder(s).append(sp);
                    List<Param> parsed = new ArrayList<>();
                    for (int i = 0; i < ps.size(); i++) {
                        if (i > 0) {
                            sb.append(seps.get(i));
                        }
                        sb.append(ps.get(i).text());
                        parsed.add(ps.get(i).parsed());
                    }
                    return new Gen(sb.toString(), new Challenge(s, null, parsed));
                });
    }

    /** A parameter's text and parse, smuggled through Gen's fields. */
    record P(String text, Param parsed) {}

    Arbitrary<P> param() {
        Arbitrary<String> name = Arbitraries.of("realm", "scope", "Scope", "error", "error_description",
                "resource_metadata", "error_uri", "x-custom");
        Arbitrary<String[]> value = Arbitraries.oneOf(
                Arbitraries.strings().withChars("abcXYZ019!#$%&'*+-.^_`|~").ofMinLength(1).ofMaxLength(10)
                        .map(t -> new String[] {t, t}),
                Arbitraries.of("insufficient_scope", "invalid_token").map(t -> new String[] {t, t}),
                Arbitraries.of("\"insufficient_scope\"").map(t -> new String[] {t, "insufficient_scope"}),
                quoted());
        Arbitrary<String> eq = Arbitraries.of("=", "=", " =", "= ", " = ");
        return Combinators.combine(name, eq, value).as((n, e, v) -> new P(n + e + v[0], new Param(n, v[1])));
    }

    /** A quoted-string as {raw, unquoted}: commas, spaces, escaped quotes and backslashes, obs-text. */
    Arbitrary<String[]> quoted() {
        Arbitrary<String[]> piece = Arbitraries.oneOf(
                Arbitraries.strings().withChars("ab ,=;Bearer\t\u00e9").ofMinLength(1).ofMaxLength(6)
                        .map(t -> new String[] {t, t}),
                Arbitraries.of("\\\"", "\\\\", "\\a", "\\,").map(t -> new String[] {t, t.substring(1)}));
        return piece.list().ofMaxSize(5).map(ps -> {
            StringBuilder raw = new StringBuilder("\"");
            StringBuilder val = new StringBuilder();
            ps.forEach(p -> {
                raw.append(p[0]);
                val.append(p[1]);
            });
            return new String[] {raw.append('"').toString(), val.toString()};
        });
    }
}
