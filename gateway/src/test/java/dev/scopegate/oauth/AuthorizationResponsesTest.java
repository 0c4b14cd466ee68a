package dev.scopegate.oauth;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NumericChars;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AuthorizationResponsesTest {

    static final String ISS = "https://idp.example/realms/a";
    static final String ENC = "https%3A%2F%2Fidp.example%2Frealms%2Fa";

    @Test
    void addsIssToTheQuery() {
        assertThat(AuthorizationResponses.withIss("https://c.example/cb?code=x&state=s", ISS))
                .isEqualTo("https://c.example/cb?code=x&state=s&iss=" + ENC);
        assertThat(AuthorizationResponses.withIss("https://c.example/cb?error=access_denied&state=s", ISS))
                .isEqualTo("https://c.example/cb?error=access_denied&state=s&iss=" + ENC);
        assertThat(AuthorizationResponses.withIss("https://c.example/cb?code=x&", ISS))
                .isEqualTo("https://c.example/cb?code=x&iss=" + ENC);
    }

    @Test
    void addsIssToTheFragmentInFragmentMode() {
        assertThat(AuthorizationResponses.withIss("https://c.example/cb?keep=1#code=x&state=s", ISS))
                .isEqualTo("https://c.example/cb?keep=1#code=x&state=s&iss=" + ENC);
    }

    @Test
    void leavesOtherLocationsAlone() {
        assertThat(AuthorizationResponses.withIss("https://c.example/cb?code=x&iss=other", ISS)).isNull();
        assertThat(AuthorizationResponses.withIss("/interaction/abc", ISS)).isNull();
        assertThat(AuthorizationResponses.withIss("/login?return=%2Fauthorize%3Fcode%3D1", ISS)).isNull();
        assertThat(AuthorizationResponses.withIss("https://c.example/cb?code=x", null)).isNull();
    }

    @Test
    void targets() {
        assertThat(AuthorizationResponses.targets("https://c/cb?code=1", "https://c/cb")).isTrue();
        assertThat(AuthorizationResponses.targets("https://c/cb#code=1", "https://c/cb")).isTrue();
        assertThat(AuthorizationResponses.targets("https://c/cb?x=1&code=1", "https://c/cb?x=1")).isTrue();
        assertThat(AuthorizationResponses.targets("https://c/cbx?code=1", "https://c/cb")).isFalse();
        assertThat(AuthorizationResponses.targets("https://c/cb.evil?code=1", "https://c/cb")).isFalse();
        assertThat(AuthorizationResponses.targets("https://c/cb?code=1", null)).isFalse();
    }

    /** Every char of the Location but the appended parameter is kept. */
    @Property
    void everyOtherByteIsKept(@ForAll @AlphaChars @NumericChars String code, @ForAll @AlphaChars String state,
                              @ForAll boolean fragment) {
        String loc = "https://c.example/cb" + (fragment ? "#" : "?") + "code=" + code + "&state=" + state;
        String out = AuthorizationResponses.withIss(loc, ISS);
        assertThat(out).isEqualTo(loc + "&iss=" + ENC);
        assertThat(AuthorizationResponses.param(out, "iss")).isEqualTo(ISS);
        assertThat(AuthorizationResponses.withIss(out, ISS)).isNull();
    }

    /** {@code param} reads the range in place; it answers as the parsed {@link Params} of that range. */
    @Property
    void paramAnswersAsTheParsedParams(@ForAll("locations") String location, @ForAll("names") String name) {
        long range = AuthorizationResponses.paramsRange(location);
        String expected = range < 0 ? null
                : ParamCodec.parse(location.substring((int) (range >>> 32), (int) range)).first(name);
        assertThat(AuthorizationResponses.param(location, name)).isEqualTo(expected);
    }

    @Provide
    Arbitrary<String> locations() {
        return Arbitraries.strings().withChars("ab=&?#%2Ber+rorcdstate").ofMaxLength(40)
                .map(s -> "https://c.example/cb" + s);
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.of("error", "state", "code", "a", "", "e r");
    }
}
