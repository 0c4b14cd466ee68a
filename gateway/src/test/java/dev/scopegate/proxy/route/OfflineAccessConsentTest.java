package dev.scopegate.proxy.route;

import dev.scopegate.oauth.AuthorizationParams;
import dev.scopegate.oauth.ParamCache;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OfflineAccessConsentTest {

    private static String withScope(String query, String scope) {
        return OAuthRouter.withScope(query, 0, AuthorizationParams.read(query, 0, query.length(), true, false, null),
                scope, new ParamCache(16));
    }

    @Test
    void offlineAccessBringsPromptConsentWhenThereIsNoPrompt() {
        assertThat(withScope("client_id=a&state=s", "read offline_access"))
                .isEqualTo("client_id=a&state=s&scope=read%20offline_access&prompt=consent");
    }

    @Test
    void anExistingPromptIsLeftAlone() {
        assertThat(withScope("client_id=a&prompt=login", "offline_access"))
                .isEqualTo("client_id=a&prompt=login&scope=offline_access");
    }

    @Test
    void onlyTheWholeTokenCounts() {
        assertThat(withScope("client_id=a", "offline_access_x read"))
                .isEqualTo("client_id=a&scope=offline_access_x%20read");
        assertThat(withScope("client_id=a", "x:offline_access"))
                .isEqualTo("client_id=a&scope=x%3Aoffline_access");
    }
}
