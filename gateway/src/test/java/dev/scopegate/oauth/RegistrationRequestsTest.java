package dev.scopegate.oauth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RegistrationRequestsTest {

    static String filled(String json, String scope) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        RegistrationRequests.Shape shape = RegistrationRequests.read(body);
        assertThat(shape).as(json).isNotNull();
        assertThat(shape.missing()).as(json).isTrue();
        return new String(RegistrationRequests.withScope(body, shape, scope), StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{}|{\"scope\":\"a b\"}",
        "  { }  |  {\"scope\":\"a b\" }  ",
        "{\"client_name\":\"Zoë \\u00e9\", \"n\": 1.50e3}|{\"scope\":\"a b\",\"client_name\":\"Zoë \\u00e9\", \"n\": 1.50e3}",
        "{\"scope\":\"\"}|{\"scope\":\"a b\"}",
        "{\"scope\" :  \"  \" ,\"x\":[]}|{\"scope\" :  \"a b\" ,\"x\":[]}",
        "{\"x\":{\"scope\":\"nested\"},\"scope\":null}|{\"x\":{\"scope\":\"nested\"},\"scope\":\"a b\"}",
    })
    void insertsOrReplacesOnlyTheScopeBytes(String in, String out) {
        assertThat(filled(in, "a b")).isEqualTo(out);
    }

    @Test
    void escapesWhatItAdds() {
        assertThat(filled("{}", "q\"\\")).isEqualTo("{\"scope\":\"q\\\"\\\\\"}");
    }

    @Test
    void readsRedirectUrisAndLeavesAPresentScope() {
        RegistrationRequests.Shape s = RegistrationRequests.read(
                "{\"redirect_uris\":[\"https://a/cb\",7,\"https://b/cb\"],\"scope\":\"openid\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(s.missing()).isFalse();
        assertThat(s.redirectUris()).containsExactly("https://a/cb", "https://b/cb");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[]", "\"x\"", "{", "{}{}", "{} x", "{\"scope\":1}", "{\"scope\":[\"a\"]}",
        "{\"scope\":\"a\",\"scope\":\"b\"}", "{\"scope\":\"\",\"scope\":null}"})
    void leavesWhatItCannotReadSafelyToTheIdp(String body) {
        assertThat(RegistrationRequests.read(body.getBytes(StandardCharsets.UTF_8))).isNull();
    }
}
