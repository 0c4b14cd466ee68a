package dev.scopegate.oauth;

import dev.scopegate.oauth.scope.AuthorizationRequest;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link AuthorizationParams} is the router's one-pass twin of {@link Params}: on every input the
 * {@link ParamCodecProperties} generators make (well-formed queries in every spelling, and
 * arbitrary text), read alone or inside a longer text, it must find the same counts, values and
 * malformedness, and its rewrite must be byte for byte the rewrite of {@link Params#withScope}.
 * {@link ParamCache} must answer exactly what {@link ParamCodec} does, hit or miss.
 */
class AuthorizationParamsProperties {

    private final ParamCodecProperties generators = new ParamCodecProperties();

    @Property(tries = 1000)
    void readsWhatParamsReads(@ForAll("texts") String raw, @ForAll("prefixes") String prefix) {
        Params expected = ParamCodec.parse(raw);
        String text = prefix + raw;
        AuthorizationParams p = AuthorizationParams.parse(text, prefix.length(), text.length());
        ParamCache cache = new ParamCache(4);

        assertThat(p.malformed()).isEqualTo(expected.malformed());
        assertThat(p.clientIdCount()).isEqualTo(expected.count(OAuthParams.CLIENT_ID));
        assertThat(p.scopeCount()).isEqualTo(expected.count(OAuthParams.SCOPE));
        assertThat(p.hasRequest()).isEqualTo(expected.count(OAuthParams.REQUEST) > 0);
        assertThat(p.hasRequestUri()).isEqualTo(expected.count(OAuthParams.REQUEST_URI) > 0);
        assertThat(p.hasPrompt()).isEqualTo(expected.count(OAuthParams.PROMPT) > 0);
        for (int round = 0; round < 2; round++) { // the second round reads through the cache's hits
            assertThat(p.clientId(cache)).isEqualTo(expected.first(OAuthParams.CLIENT_ID));
            assertThat(p.scope(cache)).isEqualTo(expected.first(OAuthParams.SCOPE));
            assertThat(p.redirectUri(cache)).isEqualTo(expected.first(OAuthParams.REDIRECT_URI));
            assertThat(p.resource(cache)).isEqualTo(expected.first(OAuthParams.RESOURCE));
        }
        assertThat(p.clientId(null)).isEqualTo(expected.first(OAuthParams.CLIENT_ID));
        assertThat(p.state()).isEqualTo(expected.first(OAuthParams.STATE));
        assertThat(p.codeChallenge()).isEqualTo(expected.first(OAuthParams.CODE_CHALLENGE));

        AuthorizationRequest r = p.toRequest(true, true, cache);
        assertThat(r).isEqualTo(new AuthorizationRequest(
                expected.count(OAuthParams.CLIENT_ID), expected.first(OAuthParams.CLIENT_ID),
                expected.count(OAuthParams.SCOPE), expected.first(OAuthParams.SCOPE),
                expected.first(OAuthParams.REDIRECT_URI), expected.first(OAuthParams.RESOURCE),
                expected.count(OAuthParams.REQUEST) > 0, expected.count(OAuthParams.REQUEST_URI) > 0,
                true, expected.malformed(), expected.first(OAuthParams.STATE)));
        assertThat(p.toRequest(false, false, null).state()).isNull();
    }

    @Property(tries = 1000)
    void rewritesAsParamsRewrites(@ForAll("texts") String raw, @ForAll("prefixes") String prefix,
                                  @ForAll("scopes") String scope, @ForAll("appends") String append) {
        Params old = ParamCodec.parse(raw);
        String text = prefix + raw;
        AuthorizationParams p = AuthorizationParams.parse(text, prefix.length(), text.length());
        String encoded = new ParamCache(2).encode(scope);

        String expected;
        try {
            expected = old.withScope(scope);
        } catch (IllegalStateException e) {
            assertThatThrownBy(() -> p.withScope(encoded, append)).isInstanceOf(IllegalStateException.class)
                    .hasMessage(e.getMessage());
            return;
        }
        assertThat(p.withScope(encoded, append)).isEqualTo(prefix + expected + (append == null ? "" : append));
    }

    /** The hot path's pieces say what the parsed view says. */
    @Property(tries = 1000)
    void readAppendAndFirstAgreeWithTheView(@ForAll("texts") String raw, @ForAll("prefixes") String prefix,
                                           @ForAll("scopes") String scope, @ForAll("appends") String append) {
        String text = prefix + raw;
        int from = prefix.length();
        AuthorizationParams p = AuthorizationParams.parse(text, from, text.length());
        ParamCache cache = new ParamCache(8);
        for (boolean isGet : new boolean[]{true, false}) {
            for (boolean withState : new boolean[]{true, false}) {
                AuthorizationRequest expected = p.toRequest(isGet, withState, null);
                assertThat(AuthorizationParams.read(text, from, text.length(), isGet, withState, null)).isEqualTo(expected);
                assertThat(AuthorizationParams.read(text, from, text.length(), isGet, withState, cache)).isEqualTo(expected);
                // the second read of the same request comes from the cache
                assertThat(AuthorizationParams.read(text, from, text.length(), isGet, withState, cache)).isEqualTo(expected);
            }
        }
        Params old = ParamCodec.parse(raw);
        for (String name : new String[]{OAuthParams.CODE_CHALLENGE, OAuthParams.STATE, OAuthParams.SCOPE, "a b", ""}) {
            assertThat(AuthorizationParams.first(text, from, text.length(), name)).isEqualTo(old.first(name));
        }
        if (p.scopeCount() == 0) {
            String encoded = ParamCodec.encode(scope);
            assertThat(AuthorizationParams.appendScope(text, from, text.length(), encoded, append))
                    .isEqualTo(p.withScope(encoded, append));
        }
    }

    /** The parameters need not end the text: what follows them (even with {@code =} and {@code &}) stays after the appended text. */
    @Property(tries = 300)
    void keepsTheTextAfterTheParameters(@ForAll("texts") String raw, @ForAll("scopes") String scope) {
        Params old = ParamCodec.parse(raw);
        String text = "/a?" + raw + "\u0000t=a&il=";
        AuthorizationParams p = AuthorizationParams.parse(text, 3, 3 + raw.length());
        String expected;
        try {
            expected = old.withScope(scope);
        } catch (IllegalStateException e) {
            return;
        }
        assertThat(p.withScope(ParamCodec.encode(scope), "&x")).isEqualTo("/a?" + expected + "&x\u0000t=a&il=");
        if (p.scopeCount() == 0) {
            assertThat(AuthorizationParams.appendScope(text, 3, 3 + raw.length(), ParamCodec.encode(scope), "&x"))
                    .isEqualTo("/a?" + expected + "&x\u0000t=a&il=");
            assertThat(AuthorizationParams.first(text, 3, 3 + raw.length(), OAuthParams.CLIENT_ID))
                    .isEqualTo(old.first(OAuthParams.CLIENT_ID));
        }
    }

    @Property(tries = 500)
    void theCacheAnswersWhatTheCodecAnswers(@ForAll("valueLists") List<String> values, @ForAll("scopeLists") List<String> scopes) {
        ParamCache one = new ParamCache(1); // every new value evicts the last: misses and hits alike
        ParamCache many = new ParamCache(64);
        for (int round = 0; round < 2; round++) {
            for (String v : values) {
                String text = "x=" + v + "&";
                String expected = ParamCodec.decode(text, 2, 2 + v.length());
                assertThat(one.decode(text, 2, 2 + v.length())).isEqualTo(expected);
                assertThat(many.decode(text, 2, 2 + v.length())).isEqualTo(expected);
            }
            for (String s : scopes) {
                assertThat(one.encode(s)).isEqualTo(ParamCodec.encode(s));
                assertThat(many.encode(new String(s))).isEqualTo(ParamCodec.encode(s));
            }
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<String> texts() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, generators.queries().map(ParamCodecProperties.Query::raw)),
                Tuple.of(2, generators.anyText()),
                Tuple.of(1, Arbitraries.of(
                        "client_id=a&client_id=b&scope=&sc%6Fpe=+&state=s",
                        "client%5Fid=x&redirect_uri=https%3A%2F%2Fa.example%2Fcb&request&request_uri=urn:x&prompt",
                        "code_challenge=abc&code_challenge=def&resource=https%3A%2F%2Fr&resource=second",
                        "scope=%20&client_id=%E2%82%AC&state=%zz",
                        "&&scope&&", "=&=x&client_id", "client_id+=x&client+id=y&client%20id=z")));
    }

    @Provide
    Arbitrary<String> prefixes() {
        return Arbitraries.of("", "/oauth/authorize?", "?", "&scope=x&");
    }

    @Provide
    Arbitrary<String> scopes() {
        return generators.scopes();
    }

    @Provide
    Arbitrary<String> appends() {
        return Arbitraries.of(null, "&prompt=consent", "");
    }

    @Provide
    Arbitrary<List<String>> valueLists() {
        return generators.anyText().list().ofMaxSize(6);
    }

    @Provide
    Arbitrary<List<String>> scopeLists() {
        return generators.scopes().list().ofMaxSize(6);
    }
}
