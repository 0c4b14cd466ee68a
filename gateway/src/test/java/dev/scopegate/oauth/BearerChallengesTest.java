package dev.scopegate.oauth;

import static dev.scopegate.oauth.BearerChallenges.Status.FORBIDDEN;
import static dev.scopegate.oauth.BearerChallenges.Status.UNAUTHORIZED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.scopegate.oauth.BearerChallenges.Challenge;
import dev.scopegate.oauth.BearerChallenges.Param;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The shapes resource servers send, and what scopegate makes of them (RFC 6750 §3, RFC 9728 §5.1). */
class BearerChallengesTest {

    static final String MD = "https://gw.example/.well-known/oauth-protected-resource/mcp";
    static final String SCOPE = "files:read files:write";
    static final String ADDED = "resource_metadata=\"" + MD + "\", scope=\"" + SCOPE + "\"";

    static String complete401(String value) {
        return BearerChallenges.complete(value, UNAUTHORIZED, MD, SCOPE);
    }

    @Test
    void bareBearerGetsBothAfterOneSpace() {
        assertThat(complete401("Bearer")).isEqualTo("Bearer " + ADDED);
        assertThat(complete401("bearer")).isEqualTo("bearer " + ADDED);
    }

    @Test
    void paramsAreAppendedAfterTheLastOne() {
        assertThat(complete401("Bearer realm=\"api\",   error=invalid_token"))
                .isEqualTo("Bearer realm=\"api\",   error=invalid_token, " + ADDED);
    }

    @Test
    void presentParametersAreNeverAddedAgainWhateverTheirValueOrCase() {
        assertThat(complete401("Bearer Scope=\"x\"")).isEqualTo("Bearer Scope=\"x\", resource_metadata=\"" + MD + "\"");
        assertThat(complete401("Bearer resource_metadata=\"https://other/x\"", SCOPE))
                .isEqualTo("Bearer resource_metadata=\"https://other/x\", scope=\"" + SCOPE + "\"");
        String both = "Bearer scope=a, RESOURCE_METADATA=b";
        assertThat(complete401(both)).isSameAs(both);
    }

    private static String complete401(String value, String scope) {
        return BearerChallenges.complete(value, UNAUTHORIZED, MD, scope);
    }

    @Test
    void otherSchemesAndTheirBytesStayAsTheyAre() {
        String v = "Basic realm=\"a, Bearer b\", Bearer, Negotiate YII+/abc==";
        assertThat(complete401(v)).isEqualTo("Basic realm=\"a, Bearer b\", Bearer " + ADDED + ", Negotiate YII+/abc==");
        String basic = "Basic realm=\"Bearer\"";
        assertThat(complete401(basic)).isSameAs(basic);
        String digest = "Digest realm=\"x\", nonce=\"y\", qop=\"auth\"";
        assertThat(complete401(digest)).isSameAs(digest);
    }

    @Test
    void bearerInTheMiddleOfAListAndEmptyElements() {
        assertThat(complete401("Basic realm=x, , Bearer realm=\"y\" ,, Digest nonce=1"))
                .isEqualTo("Basic realm=x, , Bearer realm=\"y\", " + ADDED + " ,, Digest nonce=1");
    }

    @Test
    void quotedStringsWithEscapedQuotesAndCommas() {
        String v = "Bearer error_description=\"a \\\"quoted\\\", comma\", error=\"invalid_token\"";
        assertThat(complete401(v)).isEqualTo(v + ", " + ADDED);
        assertThat(BearerChallenges.parse(v)).containsExactly(new Challenge("Bearer", null,
                List.of(new Param("error_description", "a \"quoted\", comma"), new Param("error", "invalid_token"))));
    }

    @Test
    void bearerWithToken68IsLeftAlone() {
        String v = "Bearer abc.def==";
        assertThat(complete401(v)).isSameAs(v);
    }

    @Test
    void emptyScopeAddsOnlyTheMetadata() {
        assertThat(BearerChallenges.complete("Bearer", UNAUTHORIZED, MD, ""))
                .isEqualTo("Bearer resource_metadata=\"" + MD + "\"");
        assertThat(BearerChallenges.complete("Bearer", UNAUTHORIZED, MD, null))
                .isEqualTo("Bearer resource_metadata=\"" + MD + "\"");
    }

    @Test
    void forbiddenGetsOnlyScopeAndOnlyForInsufficientScope() {
        assertThat(BearerChallenges.complete("Bearer error=\"insufficient_scope\"", FORBIDDEN, MD, SCOPE))
                .isEqualTo("Bearer error=\"insufficient_scope\", scope=\"" + SCOPE + "\"");
        assertThat(BearerChallenges.complete("Bearer error=insufficient_scope", FORBIDDEN, MD, SCOPE))
                .isEqualTo("Bearer error=insufficient_scope, scope=\"" + SCOPE + "\"");
        String other = "Bearer error=\"invalid_token\"";
        assertThat(BearerChallenges.complete(other, FORBIDDEN, MD, SCOPE)).isSameAs(other);
        assertThat(BearerChallenges.complete("Bearer", FORBIDDEN, MD, SCOPE)).isEqualTo("Bearer");
        String has = "Bearer error=\"insufficient_scope\", scope=\"admin\"";
        assertThat(BearerChallenges.complete(has, FORBIDDEN, MD, SCOPE)).isSameAs(has);
    }

    @Test
    void addedValuesAreQuotedWithEscapes() {
        assertThat(BearerChallenges.complete("Bearer", UNAUTHORIZED, "https://h/a\"b\\c", null))
                .isEqualTo("Bearer resource_metadata=\"https://h/a\\\"b\\\\c\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "Bearer realm=\"unterminated",
        "Bearer =x",
        "Bearer realm=\"x\" junk",
        "Bearer\trealm=x",
        "Bearer realm=\"bad\u0001char\"",
        "Bearer realm=\"bad escape\\\u0001\"",
        "\"Bearer\"",
        "Bearer realm=x y=z",
    })
    void valuesThatDoNotParseStayUnchanged(String v) {
        assertThat(BearerChallenges.parse(v)).isNull();
        assertThat(complete401(v)).isSameAs(v);
    }

    @Test
    void severalBearerChallengesEachGetWhatTheyLack() {
        assertThat(complete401("Bearer realm=a, Bearer scope=b"))
                .isEqualTo("Bearer realm=a, " + ADDED + ", Bearer scope=b, resource_metadata=\"" + MD + "\"");
    }

    @Test
    void badWhitespaceAroundEqualsIsAccepted() {
        assertThat(BearerChallenges.parse("Bearer realm = \"x\""))
                .containsExactly(new Challenge("Bearer", null, List.of(new Param("realm", "x"))));
        assertThat(complete401("Bearer realm = \"x\"")).isEqualTo("Bearer realm = \"x\", " + ADDED);
    }
}
