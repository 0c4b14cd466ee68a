package dev.scopegate.proxy.route;

import dev.scopegate.oauth.ParamCodec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OfflineAccessConsentTest {

    @Test
    void offlineAccessBringsPromptConsentWhenThereIsNoPrompt() {
        assertThat(OAuthRouter.withScope(ParamCodec.parse("client_id=a&state=s"), "read offline_access"))
                .isEqualTo("client_id=a&state=s&scope=read%20offline_access&prompt=consent");
    }

    @Test
    void anExistingPromptIsLeftAlone() {
        assertThat(OAuthRouter.withScope(ParamCodec.parse("client_id=a&prompt=login"), "offline_access"))
                .isEqualTo("client_id=a&prompt=login&scope=offline_access");
    }

    @Test
    void onlyTheWholeTokenCounts() {
        assertThat(OAuthRouter.withScope(ParamCodec.parse("client_id=a"), "offline_access_x read"))
                .isEqualTo("client_id=a&scope=offline_access_x%20read");
        assertThat(OAuthRouter.withScope(ParamCodec.parse("client_id=a"), "x:offline_access"))
                .isEqualTo("client_id=a&scope=x%3Aoffline_access");
    }
}
