package dev.scopegate.model;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

/** The compact layout says exactly what it was given and compares like the record it replaced. */
class RegistrationTest {

    private static final Instant T0 = Instant.parse("2025-11-25T10:00:00.123456789Z");
    private static final String ID = "811703c8-c50a-4a49-a119-0035430610cd";

    /** The nine values a registration is built from, as a record compares them. */
    record Fields(String clientId, String scope, List<String> redirectUris, List<String> grantTypes,
                  String clientName, String registrationClientUri, String learnedScope, Instant createdAt,
                  Instant updatedAt) {

        Registration build() {
            return new Registration(clientId, scope, redirectUris, grantTypes, clientName, registrationClientUri,
                    learnedScope, createdAt, updatedAt);
        }

        static Fields of(Registration r) {
            return new Fields(r.clientId(), r.scope(), r.redirectUris(), r.grantTypes(), r.clientName(),
                    r.registrationClientUri(), r.learnedScope(), r.createdAt(), r.updatedAt());
        }
    }

    @Property(tries = 500)
    void accessorsAnswerWhatTheConstructorWasGiven(@ForAll("fields") Fields f) {
        assertThat(Fields.of(f.build())).isEqualTo(f);
    }

    @Property(tries = 500)
    void equalsAndHashCodeFollowTheValues(@ForAll("fields") Fields a, @ForAll("fields") Fields b) {
        assertThat(a.build().equals(b.build())).isEqualTo(a.equals(b));
        assertThat(a.build()).isEqualTo(a.build()).hasSameHashCodeAs(a.build());
    }

    @Test
    void aManagementUriAroundTheClientIdIsRebuiltExactly() {
        for (String uri : List.of("https://idp/oauth/register/" + ID, "https://idp/r/" + ID + "?x=" + ID + "/v",
                ID, "https://idp/oauth/register/811703c8", "")) {
            Registration r = new Registration(ID, null, null, null, null, uri, null, T0, T0);
            assertThat(r.registrationClientUri()).isEqualTo(uri);
            assertThat(r.mergedInto(null).registrationClientUri()).isEqualTo(uri);
        }
        assertThat(new Registration("", null, null, null, null, "https://idp/x", null, T0, T0)
                .registrationClientUri()).isEqualTo("https://idp/x");
        // Same URI text, different client: the one around the id is not the other's.
        Registration a = new Registration("a1", null, null, null, null, "https://idp/r/a1", null, T0, T0);
        Registration b = new Registration("b2", null, null, null, null, "https://idp/r/a1", null, T0, T0);
        assertThat(a.registrationClientUri()).isEqualTo(b.registrationClientUri());
        assertThat(a).isNotEqualTo(b);
    }

    @Test
    void instantsKeepEveryNanosecondAndTheExtremes() {
        Registration r = new Registration(ID, null, null, null, null, null, null, Instant.MIN, Instant.MAX);
        assertThat(r.createdAt()).isEqualTo(Instant.MIN);
        assertThat(r.updatedAt()).isEqualTo(Instant.MAX);
        Registration later = r.withLearnedScope("a", T0);
        assertThat(later.updatedAt()).isEqualTo(T0);
        assertThat(later.createdAt()).isEqualTo(Instant.MIN);
        assertThat(later.learnedScope()).isEqualTo("a");
    }

    @Test
    void mergedIntoKeepsWhatScopegateKnewAndTheNewerMetadata() {
        Registration older = new Registration(ID, "old", List.of("https://a"), List.of("x"), "Old",
                "https://idp/r/" + ID, "learned", T0, T0);
        Registration newer = new Registration(ID, "new", List.of("https://b"), List.of("y"), "New", null, null,
                T0.plusSeconds(5), T0.plusSeconds(5));
        assertThat(newer.mergedInto(older)).isEqualTo(new Registration(ID, "new", List.of("https://b"),
                List.of("y"), "New", "https://idp/r/" + ID, "learned", T0, T0.plusSeconds(5)));
    }

    @Test
    void printsLikeARecordAndCopiesItsLists() {
        List<String> uris = new ArrayList<>(List.of("https://a"));
        Registration r = new Registration("c1", "s", uris, null, "N", "https://idp/r/c1", null, T0, T0);
        uris.add("https://b");
        assertThat(r.redirectUris()).containsExactly("https://a");
        assertThat(r.grantTypes()).isEmpty();
        assertThat(r).hasToString("Registration[clientId=c1, scope=s, redirectUris=[https://a], grantTypes=[], "
                + "clientName=N, registrationClientUri=https://idp/r/c1, learnedScope=null, "
                + "createdAt=2025-11-25T10:00:00.123456789Z, updatedAt=2025-11-25T10:00:00.123456789Z]");
    }

    @Test
    void refusesMissingRequiredValues() {
        assertThatNullPointerException().isThrownBy(() -> new Registration(null, null, null, null, null, null, null,
                T0, T0)).withMessage("clientId");
        assertThatNullPointerException().isThrownBy(() -> new Registration("c", null, null, null, null, null, null,
                null, T0)).withMessage("createdAt");
        assertThatNullPointerException().isThrownBy(() -> new Registration("c", null, null, null, null, null, null,
                T0, null)).withMessage("updatedAt");
    }

    @Provide
    Arbitrary<Fields> fields() {
        // Few distinct values, so that equal pairs come up often.
        Arbitrary<String> ids = Arbitraries.of("c1", "c2", "", ID);
        Arbitrary<String> texts = Arbitraries.of("a", "c1", "https://idp/r/c1", "https://idp/r/" + ID + "/x", "")
                .injectNull(0.3);
        Arbitrary<List<String>> lists = Arbitraries.of("https://a", "c1", "b").list().ofMaxSize(2);
        Arbitrary<Instant> instants = Arbitraries.of(T0, T0.plusNanos(1), Instant.EPOCH, Instant.MAX);
        return Combinators.combine(ids, texts, lists, lists, texts, texts, texts, instants)
                .as((id, scope, uris, grants, name, uri, learned, created) -> new Fields(id, scope, uris, grants,
                        name, uri, learned, created, created.equals(T0) ? T0.plusSeconds(1) : created));
    }
}
