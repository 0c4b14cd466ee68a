package dev.scopegate.oauth.scope;

import dev.scopegate.config.ScopegateConfig.OfflineAccessPrompt;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PromptPolicyTest {

    private final PromptPolicy consent = new PromptPolicy(OfflineAccessPrompt.CONSENT);
    private final PromptPolicy none = new PromptPolicy(OfflineAccessPrompt.NONE);

    @Test
    void consentGoesWithOfflineAccessAnywhereInTheScope() {
        assertThat(consent.promptFor("offline_access")).isEqualTo("consent");
        assertThat(consent.promptFor("read offline_access")).isEqualTo("consent");
        assertThat(consent.promptFor("offline_access read")).isEqualTo("consent");
        assertThat(consent.promptFor("a offline_access b")).isEqualTo("consent");
    }

    @Test
    void onlyTheWholeTokenCounts() {
        assertThat(consent.promptFor("offline_access_x read")).isNull();
        assertThat(consent.promptFor("x:offline_access")).isNull();
        assertThat(consent.promptFor("read")).isNull();
        assertThat(consent.promptFor("xoffline_access offline_accessx")).isNull();
    }

    @Test
    void noneNeverAddsAPrompt() {
        assertThat(none.promptFor("offline_access")).isNull();
        assertThat(none.promptFor("read offline_access")).isNull();
    }
}
