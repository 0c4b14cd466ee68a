package dev.scopegate.store;

import dev.scopegate.model.Registration;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegistrationJsonTest {

    private static final Instant T = Instant.parse("2025-11-25T10:00:00.000000001Z");

    @Test
    void roundTripsFullAndMinimalRegistrations() {
        Registration full = new Registration("c1", "a b", List.of("https://x/cb"), List.of("authorization_code"),
                "name", "https://idp/reg/c1", "learned", T, T.plusSeconds(1));
        Registration minimal = Registration.learnedOnly("c2", null, T);
        assertThat(RegistrationJson.fromJson(RegistrationJson.toJson(full))).isEqualTo(full);
        assertThat(RegistrationJson.fromJson(RegistrationJson.toJson(minimal))).isEqualTo(minimal);
        assertThat(RegistrationJson.toJson(full)).startsWith("{\"v\":1,\"client_id\":\"c1\"")
                .contains("\"created_at\":\"2025-11-25T10:00:00.000000001Z\"");
    }

    @Test
    void refusesUnknownVersionsAndBrokenDocumentsWithoutQuotingThem() {
        assertThatThrownBy(() -> RegistrationJson.fromJson("{\"v\":2,\"client_id\":\"c\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version");
        assertThatThrownBy(() -> RegistrationJson.fromJson("{\"v\":1,\"client_id\":\"c\",\"created_at\":\"private-text\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("private-text");
        assertThatThrownBy(() -> RegistrationJson.fromJson("private-text"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("private-text");
    }
}
