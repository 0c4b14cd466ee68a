package dev.scopegate.oauth.scope;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RewriteOutcomeTest {

    static final String CB = "https://chatgpt.com/cb";

    @Test
    void anErrorRedirectToTheRequestsOwnRedirectUriWithItsStateMayDemote() {
        assertThat(RewriteOutcome.ofAuthorization(302, CB + "?error=invalid_scope&state=s1", CB, "s1"))
                .isEqualTo(new RewriteOutcome(true, "invalid_scope", true));
        assertThat(RewriteOutcome.ofAuthorization(303, CB + "#error=invalid_scope&state=s1", CB, "s1").mayDemote())
                .as("fragment response mode").isTrue();
    }

    @Test
    void aRejectionElsewhereIsCountedButNeverDemotes() {
        assertThat(RewriteOutcome.ofAuthorization(302, "https://evil.example/cb?error=invalid_scope&state=s1", CB, "s1"))
                .isEqualTo(new RewriteOutcome(true, "invalid_scope", false));
        assertThat(RewriteOutcome.ofAuthorization(302, CB + "x?error=invalid_scope&state=s1", CB, "s1").mayDemote())
                .as("a longer path is another URI").isFalse();
        assertThat(RewriteOutcome.ofAuthorization(302, CB + "?error=invalid_scope&state=other", CB, "s1").mayDemote())
                .as("another request's state").isFalse();
        assertThat(RewriteOutcome.ofAuthorization(302, CB + "?error=invalid_scope", null, null).mayDemote())
                .as("no redirect_uri to compare with").isFalse();
        assertThat(RewriteOutcome.ofAuthorization(302, CB + "?error=access_denied&state=s1", CB, "s1"))
                .isEqualTo(new RewriteOutcome(true, "access_denied", false));
    }

    @Test
    void anythingElseIsAccepted() {
        assertThat(RewriteOutcome.ofAuthorization(200, null, CB, "s1")).isEqualTo(RewriteOutcome.ACCEPTED);
        assertThat(RewriteOutcome.ofAuthorization(302, CB + "?code=x&state=s1", CB, "s1")).isEqualTo(RewriteOutcome.ACCEPTED);
        assertThat(RewriteOutcome.ofAuthorization(302, "/login?error_hint=x", CB, "s1")).isEqualTo(RewriteOutcome.ACCEPTED);
        assertThat(RewriteOutcome.ofAuthorization(400, null, CB, "s1")).isEqualTo(RewriteOutcome.ACCEPTED);
    }

    @Test
    void parAnswers() {
        assertThat(RewriteOutcome.ofPar(201, null)).isEqualTo(RewriteOutcome.ACCEPTED);
        assertThat(RewriteOutcome.ofPar(400, "invalid_scope")).isEqualTo(new RewriteOutcome(true, "invalid_scope", true));
        assertThat(RewriteOutcome.ofPar(400, "invalid_client")).isEqualTo(new RewriteOutcome(true, "other", false));
        assertThat(RewriteOutcome.ofPar(500, null)).isEqualTo(new RewriteOutcome(true, "other", false));
    }

    @Test
    void errorLabelsAreAClosedSet() {
        for (String e : RewriteOutcome.ERRORS) {
            assertThat(RewriteOutcome.errorLabel(e)).isEqualTo("none".equals(e) ? "other" : e);
        }
        assertThat(RewriteOutcome.errorLabel("c1-secret-client-id")).isEqualTo("other");
        assertThat(RewriteOutcome.errorLabel(null)).isEqualTo("other");
    }

    /** The tap's shortcut: an answer that is not an error redirect is {@link RewriteOutcome#ACCEPTED}, whatever the state. */
    @Property
    void isErrorRedirectIsWhatOfAuthorizationRejects(
            @ForAll @IntRange(min = 100, max = 599) int status,
            @ForAll("locations") String location) {
        assertThat(RewriteOutcome.isErrorRedirect(status, location))
                .isEqualTo(RewriteOutcome.ofAuthorization(status, location, CB, "s1") != RewriteOutcome.ACCEPTED)
                .isEqualTo(RewriteOutcome.ofAuthorization(status, location, CB, null) != RewriteOutcome.ACCEPTED);
    }

    @Provide
    Arbitrary<String> locations() {
        return Arbitraries.strings().withChars("?#&=%65rorcdstate1").ofMaxLength(30)
                .map(s -> CB + s).injectNull(0.05);
    }
}
