package dev.scopegate.oauth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ParamCodecTest {

    private static final String SCOPES = "worker:read time-off:read time-off:write contracts:read people:read";
    private static final String ENCODED_SCOPES =
            "worker%3Aread%20time-off%3Aread%20time-off%3Awrite%20contracts%3Aread%20people%3Aread";

    private static final String SCENARIO_1 = "response_type=code"
            + "&client_id=811703c8-c50a-4a49-a119-0035430610cd"
            + "&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect"
            + "&state=oauth_s_691b55f5b11481919ddp59nge4998443f"
            + "&scope=worker%3Aread+time-off%3Aread+time-off%3Awrite+contracts%3Aread+people%3Aread"
            + "&code_challenge=wQiZOt66Pv46ulV0WG8K9vqHiy1VcPaSmeEb5LqtD6Y"
            + "&code_challenge_method=S256"
            + "&resource=https%3A%2F%2Fmy-domain%2Fmcp";

    private static final String SCENARIO_2 = "response_type=code"
            + "&client_id=811703c8-c50a-4a49-a119-0035430610cd"
            + "&redirect_uri=https%3A%2F%2Fchatgpt.com%2Fconnector_platform_oauth_redirect"
            + "&state=oauth_s_691b57560b648191a5a85lt8e30e0894"
            + "&code_challenge=usJfT28XGmDtSalaQQgcvouUG95K5jDvwNiL21j8u5o"
            + "&code_challenge_method=S256"
            + "&resource=https%3A%2F%2Fmy-domain%2Fmcp";

    @Test
    void scenario1ReadsTheScopeWithPlusAsSpace() {
        Params p = ParamCodec.parse(SCENARIO_1);

        assertThat(p.malformed()).isFalse();
        assertThat(p.size()).isEqualTo(8);
        assertThat(p.count(OAuthParams.SCOPE)).isEqualTo(1);
        assertThat(p.first(OAuthParams.SCOPE)).isEqualTo(SCOPES);
        assertThat(p.first(OAuthParams.REDIRECT_URI))
                .isEqualTo("https://chatgpt.com/connector_platform_oauth_redirect");
        assertThat(p.first(OAuthParams.RESOURCE)).isEqualTo("https://my-domain/mcp");
        assertThat(p.first(OAuthParams.NONCE)).isNull();
        assertThatThrownBy(() -> p.withScope(SCOPES)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void scenario2GetsTheScopeAppendedAndNothingElseChanges() {
        Params p = ParamCodec.parse(SCENARIO_2);

        assertThat(p.count(OAuthParams.SCOPE)).isZero();
        assertThat(p.withScope(SCOPES)).isEqualTo(SCENARIO_2 + "&scope=" + ENCODED_SCOPES);
        assertThat(p.raw()).isSameAs(SCENARIO_2);
    }

    @ParameterizedTest(name = "[{0}] + scope=x -> [{1}]")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "\"\"            | scope=x",
        "a=1            | a=1&scope=x",
        "a=1&           | a=1&scope=x",
        "&              | &scope=x",
        "&a             | &a&scope=x",
        "a&&b           | a&&b&scope=x",
        "=x             | =x&scope=x",
        "a              | a&scope=x",
        "scope          | scope=x",
        "a&scope&b      | a&scope=x&b",
        "a&scope=&b     | a&scope=x&b",
        "scope=&&       | scope=x&&",
        "scope=+        | scope=x",
        "scope=%20%09   | scope=x",
        "sc%6Fpe=       | sc%6Fpe=x",
        "scope+=        | scope+=&scope=x",
        "scopes=a       | scopes=a&scope=x",
        "a=scope        | a=scope&scope=x",
        "a=b=c          | a=b=c&scope=x",
    })
    void rewritesCornerCases(String raw, String expected) {
        assertThat(ParamCodec.parse(raw).withScope("x")).isEqualTo(expected);
    }

    @Test
    void scopeWithEqualsInItsValueIsNotBlank() {
        // "scope==" has the value "=", which is a value: leave it to the IdP.
        assertThatThrownBy(() -> ParamCodec.parse("scope==").withScope("x"))
                .isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"scope=a", "scope=&scope=", "scope&sc%6Fpe", "scope=%zz", "scope=%C3"})
    void refusesToRewriteAPresentOrRepeatedScope(String raw) {
        assertThatThrownBy(() -> ParamCodec.parse(raw).withScope("x")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void emptySegmentsAreNotParameters() {
        Params p = ParamCodec.parse("&a&&b=&");

        assertThat(p.size()).isEqualTo(2);
        assertThat(p.name(0)).isEqualTo("a");
        assertThat(p.value(0)).isEmpty();
        assertThat(p.name(1)).isEqualTo("b");
        assertThat(p.value(1)).isEmpty();
        assertThat(p.count("")).isZero();
        assertThat(p.malformed()).isFalse();
    }

    @Test
    void emptyNameIsAParameter() {
        Params p = ParamCodec.parse("=x&=");

        assertThat(p.count("")).isEqualTo(2);
        assertThat(p.first("")).isEqualTo("x");
    }

    @Test
    void emptyAndNullInput() {
        assertThat(ParamCodec.parse("").size()).isZero();
        assertThat(ParamCodec.parse(null).raw()).isEmpty();
        assertThat(ParamCodec.parse(null).withScope("a b")).isEqualTo("scope=a%20b");
    }

    @Test
    void decodesNamesAndValues() {
        Params p = ParamCodec.parse("a+b=1+2&c%20d=%e2%82%AC&e=%2B&f=b=c&g=\u00e2\u0082\u00ac&h=;");

        assertThat(p.first("a b")).isEqualTo("1 2");
        assertThat(p.first("c d")).isEqualTo("\u20ac");
        assertThat(p.first("e")).isEqualTo("+");
        assertThat(p.first("f")).isEqualTo("b=c");
        assertThat(p.first("g")).as("raw UTF-8 bytes in an ISO-8859-1 body").isEqualTo("\u20ac");
        assertThat(p.first("h")).isEqualTo(";");
        assertThat(p.first("a+b")).isNull();
        assertThat(p.malformed()).isFalse();
    }

    @Test
    void firstReturnsTheFirstOfRepeatedParameters() {
        Params p = ParamCodec.parse("resource=a&resource=b");

        assertThat(p.count(OAuthParams.RESOURCE)).isEqualTo(2);
        assertThat(p.first(OAuthParams.RESOURCE)).isEqualTo("a");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "a=%", "a=%4", "a=%4G", "a=%zz", "a=%%41", "%=1", "a=%\u0661\u0661", "a=%\uff11\uff11",
        "a=%C3", "a=%C3%28", "a=%FF", "a=%C0%AF", "a=%E0%80%AF", "a=%ED%A0%80", "a=%F4%90%80%80",
        "a=%F0%9F%98", "a=\u00e9", "a=\u20ac", "%C3=1", "ok=1&a=%E2%82",
    })
    void flagsMalformedInputAndKeepsItIntact(String raw) {
        Params p = ParamCodec.parse(raw);

        assertThat(p.malformed()).isTrue();
        assertThat(p.raw()).isSameAs(raw);
        for (int i = 0; i < p.size(); i++) {
            assertThat(p.name(i)).isNotNull();
            assertThat(p.value(i)).isNotNull();
        }
    }

    @Test
    void badEscapesDecodeAsLiteralPercentAndBadUtf8AsReplacement() {
        Params p = ParamCodec.parse("a=%zz&b=100%&c=%C3&d=\u20ac&e=%e2%82%ac");

        assertThat(p.first("a")).isEqualTo("%zz");
        assertThat(p.first("b")).isEqualTo("100%");
        assertThat(p.first("c")).isEqualTo("\ufffd");
        assertThat(p.first("d")).isEqualTo("\ufffd");
        assertThat(p.first("e")).isEqualTo("\u20ac");
    }

    @Test
    void wellFormedEdgesOfUtf8AreAccepted() {
        Params p = ParamCodec.parse("a=%C2%80&b=%EF%BF%BF&c=%F0%90%80%80&d=%F4%8F%BF%BF&e=%E0%A0%80&f=%ED%9F%BF");

        assertThat(p.malformed()).isFalse();
        assertThat(p.first("c")).isEqualTo(new String(Character.toChars(0x10000)));
        assertThat(p.first("d")).isEqualTo(new String(Character.toChars(0x10FFFF)));
    }

    @ParameterizedTest(name = "[{0}] -> [{1}]")
    @CsvSource(delimiter = '|', value = {
        "AZaz09-._~     | AZaz09-._~",
        "a b            | a%20b",
        "a+b            | a%2Bb",
        "100%           | 100%25",
        "a/b?c#d&e=f    | a%2Fb%3Fc%23d%26e%3Df",
        "\u00e9         | %C3%A9",
        "\u20ac         | %E2%82%AC",
        "\ud83d\ude00   | %F0%9F%98%80",
    })
    void encodesOnlyUnreservedAsIs(String value, String expected) {
        assertThat(ParamCodec.encode(value)).isEqualTo(expected);
        assertThat(ParamCodec.parse("scope=").withScope(value)).isEqualTo("scope=" + expected);
    }

    @Test
    void refusesUnpairedSurrogates() {
        assertThatThrownBy(() -> ParamCodec.parse("").withScope("a\ud83d"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void toStringDoesNotLeakValues() {
        assertThat(ParamCodec.parse("client_secret=s3cr3t").toString()).doesNotContain("s3cr3t");
    }

    @Test
    void secretsAreRedactable() {
        for (String n : new String[] {"code", "code_verifier", "client_secret", "client_assertion", "refresh_token",
                "access_token", "id_token", "registration_access_token", "password", "Client_Secret"}) {
            assertThat(OAuthParams.isSecret(n)).as(n).isTrue();
        }
        for (String n : new String[] {"scope", "state", "client_id", "code_challenge", "codes", "", null}) {
            assertThat(OAuthParams.isSecret(n)).as(String.valueOf(n)).isFalse();
        }
    }
}
